// @ts-check
/**
 * What the page tells the person in front of it: every failure (microphone, network, our server,
 * OpenAI, WebRTC) as what happened and what to do next, why the server ended a session, and what a
 * call handover cost. Plain functions of their inputs, no DOM.
 *
 * @module
 */

/**
 * Explains an error to the person in front of the page: what happened and what to do next.
 *
 * @param {unknown} err anything thrown by getUserMedia, fetch, the connection or our server
 * @returns {{ text: string, retryAfter: number|null }}
 */
export function describeError(err) {
  const e = /** @type {any} */ (err ?? {});
  const name = typeof e.name === "string" ? e.name : "";
  const message = typeof e.message === "string" ? e.message : String(err);
  const status = typeof e.status === "number" ? e.status : null;
  const retryAfter = typeof e.retryAfter === "number" && e.retryAfter > 0 ? e.retryAfter : null;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return {
      text: "Microphone access was denied. Allow the microphone for this site (the icon at the " +
        "left of the address bar, or your system's privacy settings), then press Start again.",
      retryAfter: null,
    };
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return {
      text: "No microphone was found. Plug one in, or pick another one in the Microphone list, " +
        "then press Start again.",
      retryAfter: null,
    };
  }
  if (name === "NotReadableError") {
    return {
      text: "The microphone could not be opened; another app may be using it. Close that app " +
        "or pick another microphone, then press Start again.",
      retryAfter: null,
    };
  }
  if (status === 429) {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : " Try again in a minute.";
    return {
      text: `Too many requests right now: ${message}.${wait}`,
      retryAfter,
    };
  }
  if (
    e.code === "network" ||
    (name === "TypeError" && /fetch|network/i.test(message))
  ) {
    return {
      text: "Cannot reach the server. Check your internet connection, then press Start again.",
      retryAfter: null,
    };
  }
  if (
    (status === 401 || status === 403) &&
    /access|sign.?in|cookie/i.test(`${e.code} ${message}`)
  ) {
    return {
      text: `Not signed in: ${message}. Reload the page and enter the access code.`,
      retryAfter: null,
    };
  }
  if (status === 401 || status === 403) {
    return {
      text: `The request was refused: ${message}. Press Start again; if it keeps failing, the ` +
        "server's OPENAI_API_KEY may be invalid.",
      retryAfter: null,
    };
  }
  if (status === 400 || status === 422) {
    return {
      text: `The server did not accept these settings: ${message}. Change the setting in the ` +
        "Settings panel and press Start again.",
      retryAfter: null,
    };
  }
  if (status !== null && status >= 500) {
    return {
      text: `OpenAI or the server reported a problem: ${message}. Wait a moment and press Start ` +
        "again; if it keeps failing, the server's OPENAI_API_KEY may be invalid or out of quota.",
      retryAfter,
    };
  }
  if (/ice|webrtc|peer|connection/i.test(message)) {
    return {
      text: `The audio connection failed (${message}). Your network may block WebRTC (UDP); ` +
        "try another network, then press Start again.",
      retryAfter: null,
    };
  }
  return {
    text: `Something went wrong: ${message}. Press Start to try again.`,
    retryAfter,
  };
}

/**
 * Explains why the server ended a session (`endReason` from the store).
 *
 * @param {string|null|undefined} reason
 * @param {{ maxSessionSeconds?: number|null }} [limits]
 * @returns {string}
 */
export function describeEndReason(reason, limits = {}) {
  const r = String(reason ?? "");
  if (r === "max_duration") {
    const secs = limits.maxSessionSeconds ?? null;
    const span = secs === null
      ? ""
      : secs < 120
      ? ` (${secs} s)`
      : ` (${Math.round(secs / 60)} min)`;
    return `The session reached its maximum length${span}, set by the server's ` +
      "MAX_SESSION_SECONDS. Press Start to continue in a new session.";
  }
  if (r === "session_expired") {
    return "OpenAI ended the session at its 60-minute limit. Press Start to continue.";
  }
  if (r.startsWith("error")) {
    return `The session ended because of an error (${r.replace(/^error:?\s*/, "")}). ` +
      "Press Start to try again.";
  }
  if (r === "hangup" || r === "") {
    return "The connection ended. Press Start to continue.";
  }
  return `The session ended (${r}). Press Start to continue.`;
}

/**
 * The sentence the page shows after a handover.
 * @param {{ reason: string, gapMs: number }} result
 * @returns {string}
 */
export function describeHandover(result) {
  const gap = `${(result.gapMs / 1000).toFixed(1)} s`;
  return result.reason === "rotate"
    ? `Switched to a new call before the session time limit; captions continue (gap ${gap}).`
    : `The connection dropped and was restored; speech in the last ${gap} may be missing.`;
}

/**
 * What the page says when the server left options out because OpenAI refused them (the
 * `adjustments` of `POST /api/session`): the server's sentence, or null when nothing was left out.
 *
 * @param {unknown} adjustments
 * @returns {string|null}
 */
export function describeAdjustments(adjustments) {
  if (!Array.isArray(adjustments)) return null;
  const reasons = adjustments
    .map((a) => (a && typeof a.reason === "string" ? a.reason.trim() : ""))
    .filter((r) => r !== "")
    .map((r) => (r.length > 400 ? `${r.slice(0, 399)}…` : r));
  return reasons.length ? reasons.join(" ") : null;
}

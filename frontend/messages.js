// @ts-check
/**
 * What the page tells the person in front of it: every failure (microphone, network, our server,
 * OpenAI, WebRTC) as what happened and what to do next, why the server ended a session, and what a
 * call handover cost. Plain functions of their inputs, no DOM.
 *
 * @module
 */

/**
 * What the page says about a failure: one plain sentence with one action (`text`), the
 * technical details for a disclosure (`detail`: the server's or the browser's own words), how long
 * to hold Start back, and the settings field to mark (`field`: the request's dotted path).
 *
 * @typedef {{ text: string, detail: string|null, retryAfter: number|null, field: string|null }}
 *   ErrorReport
 */

/**
 * Explains an error to the person in front of the page: what happened and what to do next.
 *
 * @param {unknown} err anything thrown by getUserMedia, fetch, the connection or our server
 * @returns {ErrorReport}
 */
export function describeError(err) {
  const e = /** @type {any} */ (err ?? {});
  const name = typeof e.name === "string" ? e.name : "";
  const message = typeof e.message === "string" ? e.message : String(err);
  const status = typeof e.status === "number" ? e.status : null;
  const code = typeof e.code === "string" ? e.code : "";
  const retryAfter = typeof e.retryAfter === "number" && e.retryAfter > 0 ? e.retryAfter : null;
  const detail = [status ? `HTTP ${status}` : "", code, message].filter(Boolean).join(" · ");
  /** @param {string} text @param {Partial<ErrorReport>} [more] @returns {ErrorReport} */
  const say = (text, more = {}) => ({ text, detail, retryAfter: null, field: null, ...more });
  if (name === "NotAllowedError" || name === "SecurityError") {
    return say(
      "Microphone access was denied. Allow the microphone for this site (the icon at the left " +
        "of the address bar), then press Start again.",
    );
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return say(
      "No microphone was found. Plug one in, or pick another one in the Microphone list, then " +
        "press Start again.",
    );
  }
  if (name === "NotReadableError") {
    return say(
      "The microphone could not be opened; another app may be using it. Close that app, then " +
        "press Start again.",
    );
  }
  if (status === 429) {
    const wait = retryAfter ? `Try again in ${retryAfter} s.` : "Try again in a minute.";
    return say(`Too many requests right now. ${wait}`, { retryAfter });
  }
  if (code === "network" || (name === "TypeError" && /fetch|network/i.test(message))) {
    return say("Cannot reach the server. Check your internet connection, then press Start again.");
  }
  if ((status === 401 || status === 403) && /access|sign.?in|cookie/i.test(`${code} ${message}`)) {
    return say("Not signed in. Reload the page and enter the access code.");
  }
  if (status === 401 || status === 403 || code === "server_key_rejected") {
    return say(
      "OpenAI refused this site's key. Ask the site's owner to check its OPENAI_API_KEY.",
    );
  }
  if (status === 400 || status === 422) {
    const field = typeof e.field === "string" && e.field ? e.field : null;
    return say(
      "One of the settings was not accepted. Correct the marked field in Settings, then press " +
        "Start again.",
      { field },
    );
  }
  if (status !== null && status >= 500) {
    return say(
      "The transcription service is not answering right now. Wait a moment, then press Start " +
        "again.",
      { retryAfter },
    );
  }
  if (/ice|webrtc|peer|connection/i.test(message)) {
    return say(
      "The audio connection failed; your network may block WebRTC (UDP). Try another network, " +
        "then press Start again.",
    );
  }
  return say("Something went wrong. Press Start to try again.", { retryAfter });
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

// @ts-check
/**
 * The page's sessions (ephemeral key + ticket): minted when Start is pressed, never before (a key
 * lives `EPHEMERAL_KEY_TTL_SECONDS`, 10 s by default), and handed back for reuse when no call
 * started (a failed microphone).
 *
 * @example
 * ```js
 * const keys = createPreminter({ options: () => buildSessionOptions(settings) });
 * startButton.onclick = async () => {
 *   const stream = openMicrophone({ deviceId });       // in parallel
 *   const session = await keys.take();
 *   const conn = await connect({ session, stream, onEvent, onStatus });
 * };
 * ```
 *
 * @module
 */
import { postJson } from "./api.js";

/** @typedef {import("./connection.js").SessionInfo} SessionInfo */

/**
 * Mints a session (ephemeral key + ticket) on our server.
 * @param {{ options?: Record<string, unknown>, signal?: AbortSignal, fetch?: typeof fetch }} [params]
 * @returns {Promise<SessionInfo>}
 */
export function mintSession(params = {}) {
  return postJson("/api/session", params.options ?? {}, params);
}

/**
 * Hands the page its session when Start is pressed: `take()` mints one, unless the session taken
 * last started no call (the microphone failed, say) and was given back with `giveBack(session)`
 * while it is fresh and the settings did not change (`invalidate()` marks a change); then it is
 * reused instead of minting another one that would hold a concurrent-session slot.
 *
 * @param {{ options?: () => Record<string, unknown>, marginMs?: number,
 *   fetch?: typeof fetch }} [params]
 * @returns {{ take(): Promise<SessionInfo>, giveBack(session: SessionInfo): void,
 *   invalidate(): void, stop(): void }}
 */
export function createPreminter(params = {}) {
  // Keys live 10 s by default (EPHEMERAL_KEY_TTL_SECONDS): one with 2 s left is still usable,
  // the offer leaves well within a second (docs/security.md).
  const marginMs = params.marginMs ?? 2_000;
  /** A session given back and not yet taken again. @type {SessionInfo | null} */
  let spare = null;
  let stopped = false;
  /** Bumped by `invalidate()`: a session taken before a settings change is not taken back. */
  let generation = 0;
  /** @type {{ session: SessionInfo, generation: number } | null} */
  let lastTaken = null;

  const fresh = (/** @type {SessionInfo} */ s) => s.expiresAt * 1000 - Date.now() > marginMs;
  /**
   * Deletes a dropped, never-used session that holds translation calls: each is a live call on the
   * concurrency caps until its key expires, so a settings change would otherwise be refused while
   * it still counts. Best effort.
   * @param {SessionInfo | null} s
   */
  const release = (s) => {
    const translations = /** @type {{ translations?: unknown[] } | null} */ (s)?.translations;
    if (!s || !Array.isArray(translations) || translations.length === 0) return;
    const doFetch = params.fetch ?? globalThis.fetch;
    doFetch(`/api/sessions/${encodeURIComponent(s.sessionId)}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${s.ticket}` },
      credentials: "same-origin",
    }).then((r) => r.body?.cancel(), () => {});
  };

  return {
    async take() {
      const s = spare;
      spare = null;
      const session = s && fresh(s) ? s : await mintSession({
        options: params.options?.() ?? {},
        fetch: params.fetch,
      });
      lastTaken = { session, generation };
      return session;
    },
    giveBack(session) {
      const ok = lastTaken?.session === session && lastTaken.generation === generation;
      lastTaken = null;
      if (ok && !spare && !stopped && fresh(session)) spare = session;
    },
    invalidate() {
      generation++;
      release(spare);
      spare = null;
    },
    stop() {
      stopped = true;
      spare = null;
    },
  };
}

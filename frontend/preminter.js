// @ts-check
/**
 * The page's sessions (ephemeral key + ticket): minted when Start is pressed, never before (a key
 * lives `EPHEMERAL_KEY_TTL_SECONDS`, 10 s by default), and handed back for reuse when no call
 * started (a failed microphone). `prime()` mints ahead; the page no longer calls it.
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
 * Keeps a freshly minted session ready so Start needs no round trip to our server. Call `prime()`
 * when Start may be pressed soon (page load, focus, settings change); it refreshes the key before
 * it expires while the page is visible and was primed within `maxIdleMs`.
 *
 * @param {{ options?: () => Record<string, unknown>, marginMs?: number, maxIdleMs?: number,
 *   onError?: (err: unknown) => void, fetch?: typeof fetch }} [params]
 * `giveBack(session)` returns a session that `take()` handed out but that never started a call
 * (the microphone failed, say): the next `take()` reuses it while it is fresh and the settings did
 * not change, instead of minting another one that would hold a concurrent-session slot.
 *
 * @returns {{ prime(): void, take(): Promise<SessionInfo>, giveBack(session: SessionInfo): void,
 *   invalidate(): void, stop(): void }}
 */
export function createPreminter(params = {}) {
  // Keys live 10 s by default (EPHEMERAL_KEY_TTL_SECONDS): one with 2 s left is still usable,
  // the offer leaves well within a second (docs/security.md).
  const marginMs = params.marginMs ?? 2_000;
  const maxIdleMs = params.maxIdleMs ?? 5 * 60_000;
  /** @type {Promise<SessionInfo> | null} */
  let current = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let primedAt = 0;
  let stopped = false;
  /** Bumped by `invalidate()`: a session taken before a settings change is not taken back. */
  let generation = 0;
  /** @type {{ session: SessionInfo, generation: number } | null} */
  let lastTaken = null;

  const fresh = (/** @type {SessionInfo} */ s) => s.expiresAt * 1000 - Date.now() > marginMs;
  /**
   * Deletes a dropped, never-used session that holds translation calls: each is a live call on the
   * concurrency caps until its key expires, so a refresh or a settings change would otherwise be
   * refused while it still counts. Best effort.
   * @param {Promise<SessionInfo> | null} p
   */
  const release = (p) => {
    p?.then((s) => {
      const translations = /** @type {{ translations?: unknown[] }} */ (s).translations;
      if (!Array.isArray(translations) || translations.length === 0) return;
      const doFetch = params.fetch ?? globalThis.fetch;
      return doFetch(`/api/sessions/${encodeURIComponent(s.sessionId)}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${s.ticket}` },
        credentials: "same-origin",
      }).then((r) => r.body?.cancel(), () => {});
    }).catch(() => {});
  };

  function mint() {
    clearTimeout(timer);
    const p = mintSession({
      options: params.options?.() ?? {},
      fetch: params.fetch,
    });
    current = p;
    p.then((s) => {
      if (current !== p || stopped) return;
      timer = setTimeout(() => {
        const visible = typeof document === "undefined" ||
          document.visibilityState === "visible";
        if (current === p && visible && Date.now() - primedAt < maxIdleMs) {
          release(p);
          mint();
        } else if (current === p) current = null;
      }, Math.max(1000, s.expiresAt * 1000 - Date.now() - marginMs));
    }, (err) => {
      if (current === p) current = null;
      params.onError?.(err);
    });
    return p;
  }

  return {
    prime() {
      primedAt = Date.now();
      if (!current && !stopped) mint();
    },
    async take() {
      const p = current;
      current = null;
      clearTimeout(timer);
      const taken = (/** @type {SessionInfo} */ s) => {
        lastTaken = { session: s, generation };
        return s;
      };
      if (p) {
        try {
          const s = await p;
          if (fresh(s)) return taken(s);
          release(p);
        } catch { /* mint again below */ }
      }
      return taken(
        await mintSession({
          options: params.options?.() ?? {},
          fetch: params.fetch,
        }),
      );
    },
    giveBack(session) {
      const ok = lastTaken?.session === session && lastTaken.generation === generation;
      lastTaken = null;
      if (ok && !current && !stopped && fresh(session)) {
        current = Promise.resolve(session);
      }
    },
    invalidate() {
      generation++;
      release(current);
      current = null;
      clearTimeout(timer);
    },
    stop() {
      stopped = true;
      current = null;
      clearTimeout(timer);
    },
  };
}

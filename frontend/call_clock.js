/**
 * Where each call of a session sits on the session's clock, as the page sees it. A session can
 * move to a new call (`call_keeper.js`); every call's audio clock starts at 0. The page keys
 * each call, places a later call first by its own estimate (time since the first call opened),
 * then by the offset the Store gave it (`GET /api/sessions/:id` → `calls`), so shown times,
 * exports and gap-repair posts match the stored ones.
 *
 * @module
 */

/** The page's keys of connections, shared by every session on the page. @type {WeakMap<object, number>} */
const keys = new WeakMap();
let lastKey = 0;

/** The calls of one live session. */
export class CallClock {
  /** @type {number|null} */
  #firstOpenedAt = null;
  /** @type {Promise<void>[]} */
  #adopting = [];
  #timeline;
  #fetchJson;
  #rerender;
  #now;

  /**
   * @param {{
   *   timeline: import("./timeline.js").Timeline,
   *   fetchJson: (url: string, init?: { signal?: AbortSignal }) => Promise<any>,
   *   rerender: (key: number) => void,
   *   now?: () => number,
   * }} deps `rerender` redraws the lines of the call with that key once its offset changed;
   *   `now` is the page's clock (default `performance.now()`).
   */
  constructor(deps) {
    this.#timeline = deps.timeline;
    this.#fetchJson = deps.fetchJson;
    this.#rerender = deps.rerender;
    this.#now = deps.now ?? (() => performance.now());
  }

  /** A key for the next call; tag its events with it. */
  nextKey() {
    return ++lastKey;
  }

  /**
   * The key of a connection, or undefined.
   * @param {object|null|undefined} conn
   */
  keyOf(conn) {
    return conn ? keys.get(conn) : undefined;
  }

  /**
   * Notes that a call opened. A later call gets the page's estimate now and the server's offset
   * once its sideband is attached.
   *
   * @param {{ sideband: Promise<boolean>, callId: string }} conn
   * @param {number} key
   * @param {string} sessionId
   */
  opened(conn, key, sessionId) {
    keys.set(conn, key);
    const openedAt = this.#now();
    this.#firstOpenedAt ??= openedAt;
    if (openedAt > this.#firstOpenedAt) {
      this.#timeline.setCallOffset(key, openedAt - this.#firstOpenedAt);
      this.#adopting.push(this.#adopt(conn, key, sessionId));
    }
  }

  /**
   * Resolves once every later call's server offset is known (or given up on), or after `ms`.
   * @param {number} ms
   */
  async settled(ms) {
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    await Promise.race([
      Promise.all(this.#adopting),
      new Promise((r) => timer = setTimeout(r, ms)),
    ]);
    clearTimeout(timer);
  }

  /**
   * Keeps the page's estimate when the server has no offset (its sideband never attached) or
   * cannot be asked.
   *
   * @param {{ sideband: Promise<boolean>, callId: string }} conn
   * @param {number} key
   * @param {string} sessionId
   */
  async #adopt(conn, key, sessionId) {
    if (!(await conn.sideband.catch(() => false))) return;
    try {
      const data = await this.#fetchJson(`/api/sessions/${encodeURIComponent(sessionId)}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const call = (data?.calls ?? []).find((/** @type {any} */ c) => c?.callId === conn.callId);
      if (typeof call?.offsetMs !== "number" || !this.#timeline.setCallOffset(key, call.offsetMs)) {
        return;
      }
    } catch {
      return;
    }
    this.#rerender(key);
  }
}

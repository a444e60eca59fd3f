// @ts-check
/**
 * Keeps the captions flowing when the call underneath them has to change: ICE fails, or the
 * session nears OpenAI's 60-minute limit, and the transcript must go on in the same stored session.
 *
 * - {@linkcode watchCall}: ICE `failed`, or `disconnected` for longer than a grace period, reports
 *   the call lost; a while before the session's `expires_at` it asks for a rotation.
 * - {@linkcode handover}: a new call for the SAME stored session (`continueSession`, `api.js`),
 *   connected before the old one is let go; the old call is muted and committed so its last words
 *   still arrive, then closed. The result says how long no call was listening (the handover gap).
 * - {@linkcode createCallKeeper}: both wired to the live session (`live_session.js`).
 *
 * @module
 */
import { continueSession } from "./api.js";

/**
 * @typedef {object} CallWatch
 * @property {(event: Record<string, any>) => void} noteEvent Feed every server event (reads
 *   `session.expires_at`, and speech start/stop).
 * @property {() => boolean} inTurn True between `speech_started` and its `speech_stopped`.
 * @property {() => void} stop
 */

/**
 * Watches one connection. `onLost` fires once for ICE `failed` or a `disconnected` that outlasts
 * `iceGraceMs`; `onExpiring` fires once, `rotateMarginMs` before the session's `expires_at`
 * (default: a fifth of the session's length, at most 60 s).
 *
 * @param {{ pc: RTCPeerConnection }} conn
 * @param {{ onLost: (reason: "ice_failed" | "ice_disconnected", lostAt: number) => void,
 *   onExpiring: () => void,
 *   iceGraceMs?: number, rotateMarginMs?: number }} options
 * @returns {CallWatch}
 */
export function watchCall(conn, options) {
  const grace = options.iceGraceMs ?? 4000;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let iceTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let rotateTimer;
  let expiresAt = 0;
  let done = false;
  let turn = false;
  const startedAt = Date.now();
  /** When the connection was last seen leaving "connected" (performance.now()). */
  let downSince = 0;
  const lost = (/** @type {"ice_failed" | "ice_disconnected"} */ reason) => {
    if (done) return;
    done = true;
    clearTimeout(rotateTimer);
    options.onLost(reason, downSince || performance.now());
  };
  const onState = () => {
    const state = conn.pc.connectionState;
    if (state !== "connected" && !downSince) downSince = performance.now();
    if (state === "failed") lost("ice_failed");
    else if (state === "disconnected") {
      clearTimeout(iceTimer);
      iceTimer = setTimeout(() => {
        if (conn.pc.connectionState !== "connected") lost("ice_disconnected");
      }, grace);
    } else if (state === "connected") {
      clearTimeout(iceTimer);
      downSince = 0;
    }
  };
  conn.pc.addEventListener("connectionstatechange", onState);
  return {
    noteEvent(event) {
      if (event?.type === "input_audio_buffer.speech_started") turn = true;
      else if (
        event?.type === "input_audio_buffer.speech_stopped" ||
        event?.type === "input_audio_buffer.committed"
      ) turn = false;
      const at = Number(event?.session?.expires_at);
      if (done || !Number.isFinite(at) || at <= 0 || at === expiresAt) return;
      expiresAt = at;
      const length = Math.max(1000, at * 1000 - startedAt);
      const margin = options.rotateMarginMs ?? Math.min(60_000, length / 5);
      clearTimeout(rotateTimer);
      rotateTimer = setTimeout(() => {
        if (done) return;
        done = true;
        options.onExpiring();
      }, Math.max(0, at * 1000 - Date.now() - margin));
    },
    inTurn: () => turn,
    stop() {
      done = true;
      clearTimeout(iceTimer);
      clearTimeout(rotateTimer);
      conn.pc.removeEventListener("connectionstatechange", onState);
    },
  };
}

/**
 * @typedef {object} HandoverResult
 * @property {any} conn The new connection.
 * @property {import("./connection.js").SessionInfo} session Its session (same `sessionId`).
 * @property {number} gapMs How long no call was listening (0 when the calls overlapped).
 * @property {"rotate" | "ice_failed" | "ice_disconnected"} reason
 */

/**
 * Moves to a new call of the same session. For a rotation the old call keeps listening until the
 * new one is connected, then it is muted, a turn in progress (`speaking`) is committed, its
 * pending text is awaited (up to `drainMs`) and it is closed. A lost call is closed first.
 *
 * @param {{
 *   previous: { pc: RTCPeerConnection, send: (e: Record<string, unknown>) => boolean, stop: () => Promise<void> },
 *   session: { sessionId: string, ticket: string },
 *   reason: "rotate" | "ice_failed" | "ice_disconnected",
 *   lostAt?: number,
 *   connect: (session: import("./connection.js").SessionInfo) => Promise<any>,
 *   pending?: () => boolean,
 *   speaking?: () => boolean,
 *   drainMs?: number,
 *   fetch?: typeof fetch,
 * }} params
 * @returns {Promise<HandoverResult>}
 */
export async function handover(params) {
  const lostAt = params.lostAt ?? performance.now();
  // A lost call is hung up first, while the session still belongs to it: a hang-up that reached
  // the server after the continuation would claim the released session for the old call.
  if (params.reason !== "rotate") await params.previous.stop().catch(() => {});
  const session = await continueSession(params.session, { fetch: params.fetch });
  const conn = await params.connect(session);
  const connectedAt = performance.now();
  if (params.reason === "rotate") {
    // The session must belong to the new call before the old one's hang-up reaches the server.
    await conn.sideband?.catch(() => false);
    // The old call stops hearing the microphone; what it already heard is committed and awaited.
    for (const sender of params.previous.pc.getSenders()) {
      if (sender.track?.kind === "audio") await sender.replaceTrack(null).catch(() => {});
    }
    // Only a turn in progress is committed (a commit of silence would be transcribed too).
    if (params.speaking?.()) params.previous.send({ type: "input_audio_buffer.commit" });
    const deadline = performance.now() + (params.drainMs ?? 3000);
    await new Promise((r) => setTimeout(r, 200));
    while (performance.now() < deadline && params.pending?.()) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await params.previous.stop().catch(() => {});
  }
  return {
    conn,
    session,
    reason: params.reason,
    gapMs: params.reason === "rotate" ? 0 : Math.max(0, connectedAt - lostAt),
  };
}

/**
 * A running session as the page keeps it: the fields the keeper reads and replaces.
 * `turns.open` is true while the page's own VAD hears a turn it will commit itself.
 * @typedef {{ conn: any, session: any, mic: Promise<MediaStream>, turns: { open: boolean },
 *   stopping: boolean, endReason: string|null, watch?: CallWatch|null,
 *   handingOver?: boolean }} KeptSession
 */

/**
 * Wires {@linkcode watchCall} and {@linkcode handover} into the page: `watch(current)` after each
 * connect, `current.watch?.noteEvent(event)` for every event; on a lost call or a near limit it
 * moves `current` to a new call (replacing `conn` and `session`) and lets the page re-render.
 *
 * @param {{
 *   live: () => KeptSession | null,
 *   connect: (session: import("./connection.js").SessionInfo, current: KeptSession) => Promise<any>,
 *   pending: () => boolean,
 *   onStatus: (text: string) => void,
 *   onHandedOver: (result: HandoverResult, current: KeptSession) => Promise<void> | void,
 *   onFailed: (err: unknown) => void,
 *   fetch?: typeof fetch,
 * }} page `fetch` asks our server for the next call's key.
 */
export function createCallKeeper(page) {
  /**
   * @param {KeptSession} current
   * @param {"rotate" | "ice_failed" | "ice_disconnected"} reason
   * @param {number} [lostAt] When the call stopped working (performance.now()).
   */
  async function handOver(current, reason, lostAt) {
    if (page.live() !== current || current.stopping || current.handingOver) return;
    if (current.endReason) return; // the session ended (e.g. session_expired): no new call
    current.handingOver = true;
    current.watch?.stop();
    page.onStatus(reason === "rotate" ? "Switching to a new call…" : "Reconnecting…");
    try {
      const next = await handover({
        previous: current.conn,
        session: current.session,
        reason,
        lostAt,
        connect: (session) => page.connect(session, current),
        pending: page.pending,
        speaking: () => Boolean(current.watch?.inTurn()) || current.turns.open,
        fetch: page.fetch,
      });
      if (page.live() !== current) {
        await next.conn.stop().catch(() => {});
        return;
      }
      await page.onHandedOver(next, current);
      current.conn = next.conn;
      current.session = next.session;
      current.handingOver = false;
      keeper.watch(current);
    } catch (err) {
      current.handingOver = false;
      page.onFailed(err);
    }
  }
  const keeper = {
    /** Starts watching the current call. @param {KeptSession} current */
    watch(current) {
      current.watch = watchCall(current.conn, {
        onLost: (reason, lostAt) => void handOver(current, reason, lostAt),
        onExpiring: () => void handOver(current, "rotate"),
      });
    },
  };
  return keeper;
}

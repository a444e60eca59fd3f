// @ts-check
/**
 * One live session of the page, from Start to its end: take the pre-minted session, open the
 * microphone, connect the call, fold its events into the timeline, time each turn, post the final
 * lines (gap repair), move to a new call when the keeper says so, and end on Stop or when the
 * server ends the call.
 *
 * Every outside part is injected (the connection, the microphone, the page's VAD, fetch, the
 * clock, what the page shows), so it runs in Deno's tests without a browser
 * (`live_session_test.ts`); `app.js` wires it to the DOM.
 *
 * @module
 */
import { fetchJson } from "./api.js";
import { Captions } from "./captions.js";
import { CallClock } from "./call_clock.js";
import { createCallKeeper } from "./call_keeper.js";
import { errorAction, statusAction } from "./call_status.js";
import { GapRepair } from "./gap_repair.js";
import {
  describeAdjustments,
  describeEndReason,
  describeError,
  describeHandover,
} from "./messages.js";
import { retryingFetch } from "./retrying_fetch.js";
import { pageClock, sleep } from "./clock.js";
import { PageTurns } from "./turns.js";

/** @typedef {import("./connection.js").SessionInfo} SessionInfo */

/** Gap repair posts this often while live, ms. */
export const REPAIR_EVERY_MS = 15_000;
/** Stop waits at most this long for text still on its way; then a line is kept "(cut off)", ms. */
export const STOP_DRAIN_MS = 4000;
/** A key with less time than this left is not used for a new call (the SDP offer takes ~0.1 s). */
export const KEY_MARGIN_MS = 2_000;
/** After `session_expired` OpenAI closes the session; the page asks the server why this late, ms. */
const EXPIRED_GRACE_MS = 300;

/**
 * The buttons and the settings panel, as the session moves through its life.
 *
 * @typedef {object} Controls
 * @property {() => void} starting Start pressed: Start and the settings are disabled
 * @property {(info: { sessionId: string, pageCommits: boolean }) => void} started the call is live
 * @property {() => void} stopping Stop pressed
 * @property {() => void} ended Start may be pressed again
 * @property {(seconds: number, busy: () => boolean) => void} holdStart keep Start disabled for a
 *   while (`Retry-After`), and afterwards while `busy()`
 * @property {(field: string, text: string) => void} [invalid] the server refused the setting at
 *   `field` (the request's dotted path): mark it
 */

/**
 * @typedef {object} LiveSessionDeps
 * @property {(params: Parameters<typeof import("./connection.js").connect>[0]) => Promise<any>} connect
 *   `connection.js` `connect` (tests: a stand-in that is not WebRTC)
 * @property {(options: { deviceId?: string }) => Promise<MediaStream>} openMicrophone
 * @property {(options: Parameters<typeof import("./audio.js").startAudio>[0]) =>
 *   ReturnType<typeof import("./audio.js").startAudio>} startAudio the level meter and page VAD
 * @property {{ take(): Promise<SessionInfo>, giveBack(session: SessionInfo): void }} sessions
 *   where sessions come from (`preminter.js`)
 * @property {import("./timeline.js").Timeline} timeline
 * @property {import("./captions.js").CaptionView} lines the caption lines (`TranscriptView`)
 * @property {import("./call_status.js").StatusPort} status the pill, messages, meters (`StatusView`)
 * @property {{ add(event: Record<string, unknown>, direction?: "in"|"out"|"note"): void }} log
 *   the event log (`EventLog`)
 * @property {Controls} controls
 * @property {typeof fetch} [fetch] requests to our server and OpenAI (default: global `fetch`)
 * @property {import("./clock.js").Clock} [clock]
 * @property {() => { maxSessionSeconds?: number|null }} [limits] the server's limits
 *   (`/api/config`), to explain an end
 * @property {{ start(p: { session: SessionInfo, stream: MediaStream }): void,
 *   baseAt(at: number): void, stop(): Promise<void> }} [translations] the session's translation
 *   calls (`translations.js`); they run beside the transcription call and never stop it
 */

/**
 * Creates the page's live session controller (at most one session runs at a time).
 *
 * @param {LiveSessionDeps} deps
 */
export function createLiveSession(deps) {
  const { timeline, status: pill, log, controls } = deps;
  const clock = deps.clock ?? pageClock();
  const captions = new Captions({ timeline, view: deps.lines });
  /** @type {typeof fetch} */
  const doFetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  /** @param {string} url @param {{ signal?: AbortSignal }} [init] */
  const getJson = (url, init = {}) => fetchJson(url, { ...init, fetch: doFetch });
  // SDP posts to OpenAI retry 429/503 (the call was not created); the rest passes through.
  const callFetch = retryingFetch(doFetch);
  /**
   * @typedef {import("./call_keeper.js").KeptSession & { session: SessionInfo|null,
   *   audio: Awaited<ReturnType<LiveSessionDeps["startAudio"]>>|null, turns: PageTurns,
   *   abort: AbortController, calls: CallClock, repair: GapRepair, repairTimer?: unknown }} Live
   */
  /** @type {Live|null} */
  let live = null;

  const keeper = createCallKeeper({
    live: () => live,
    connect: async (session, current) =>
      await connectCall(/** @type {Live} */ (current), session, await current.mic),
    // Only the call being let go is drained; the new one's lines are already on their way.
    pending: () => timeline.pending(live?.calls.keyOf(live.conn)),
    onStatus: (text) => pill.set("starting", text),
    onHandedOver: async (next) => {
      // The new call's lines continue the same transcript, shifted by the call's offset.
      await live?.repair.run();
      pill.set("live");
      pill.message(describeHandover(next));
    },
    onFailed: () => void serverEnded(),
    fetch: doFetch,
  });

  /**
   * Connects one call of the live session; its events are tagged with the call (each call's
   * audio clock starts at 0, `call_clock.js`).
   *
   * @param {Live} current
   * @param {SessionInfo} session
   * @param {MediaStream} stream
   */
  async function connectCall(current, session, stream) {
    const key = current.calls.nextKey();
    const conn = await deps.connect({
      session,
      stream,
      onEvent: (event) => onEvent(event, key),
      onStatus,
      signal: current.abort.signal,
      fetch: callFetch,
    });
    current.calls.opened(conn, key, session.sessionId);
    return conn;
  }

  /**
   * @param {Record<string, any>} event
   * @param {number} call the page's key of the call that sent it
   */
  function onEvent(event, call) {
    log.add(event);
    if (!live) return;
    live.watch?.noteEvent(event); // the keeper reads the session's expires_at and turns
    live.turns.noteEnd(event, timeline, live.audio?.lastSpeechWall(), clock.now());
    if (event.type === "error") {
      const action = errorAction(event, { handingOver: Boolean(live.handingOver) });
      if (action.kind === "expired") {
        live.endReason = "session_expired";
        clock.setTimeout(() => void serverEnded(), EXPIRED_GRACE_MS);
      } else if (action.kind === "message") pill.message(action.text);
    }
    captions.apply(event, call);
  }

  /** Sends the commit that ends the current turn (page-VAD models). */
  function commitTurn() {
    if (!live?.turns.pageCommits || !live.conn) return;
    const event = { type: "input_audio_buffer.commit" };
    live.conn.send(event);
    log.add(event, "out");
  }

  /** @param {import("./audio.js").SpeechEdge} edge */
  function onSpeech(edge) {
    pill.speaking(edge.speaking);
    // A long turn cut in a pause: said in the log, the commit is the same.
    if (live && edge.reason === "max_length") log.add({ type: "page.turn_max_length" }, "note");
    if (live?.turns.edge(edge)) commitTurn();
  }

  /** @param {string} s a `connect()` status */
  function onStatus(s) {
    if (!live || live.stopping) return;
    log.add({ type: `page.status.${s}` }, "note");
    if (live.handingOver) return; // the keeper reports the handover itself
    const action = statusAction(s, { connected: Boolean(live.conn), watched: Boolean(live.watch) });
    if (action.kind === "message") pill.message(action.text);
    else if (action.kind === "show") pill.set(action.state, action.text);
    else if (action.kind === "end") void serverEnded();
    else if (action.kind === "grace") {
      pill.set(action.state, action.text);
      const current = live;
      clock.setTimeout(() => {
        if (live === current && current.conn?.pc?.connectionState !== "connected") {
          void serverEnded();
        }
      }, action.graceMs);
    }
  }

  /**
   * Start pressed. `pageCommits`: the page commits turns (no server VAD) unless the session says
   * otherwise; `silenceMs`: the page VAD's silence before a turn ends.
   *
   * @param {{ deviceId?: string, pageCommits: boolean, silenceMs: number }} options
   */
  async function start(options) {
    if (live) return;
    pill.message(null);
    pill.set("starting");
    controls.starting();
    captions.archive();
    const calls = new CallClock({
      timeline,
      fetchJson: getJson,
      rerender: (key) => captions.redrawCall(key),
      now: clock.now,
    });
    /** @type {Live} */
    const current = {
      session: null,
      conn: null,
      audio: null,
      // The microphone opens while the session is minted (or taken ready-made).
      mic: deps.openMicrophone({ deviceId: options.deviceId }),
      turns: new PageTurns(options.pageCommits),
      stopping: false,
      endReason: null,
      abort: new AbortController(),
      calls,
      repair: new GapRepair({ timeline, calls, session: () => current.session, fetch: doFetch }),
    };
    live = current;
    current.mic.catch(() => {/* reported below */});
    try {
      let session = current.session = await deps.sessions.take();
      // A session that started no call is handed back (a failed microphone must not use up a slot).
      const stream = await current.mic.catch((err) => {
        deps.sessions.giveBack(session);
        throw err;
      });
      // Keys are short-lived: one that expired while the microphone prompt was open is replaced.
      if (session.expiresAt * 1000 - Date.now() < KEY_MARGIN_MS) {
        session = current.session = await deps.sessions.take();
      }
      if (typeof session.clientCommits === "boolean") {
        current.turns.pageCommits = session.clientCommits;
      }
      // One translation call per language, from the same microphone, next to the transcription.
      deps.translations?.start({ session, stream });
      current.conn = await connectCall(current, session, stream);
      deps.translations?.baseAt(clock.now());
      if (live !== current) return;
      keeper.watch(current);
      controls.started({ sessionId: session.sessionId, pageCommits: current.turns.pageCommits });
      pill.set("live");
      // Options OpenAI refused (the server left them out): say so once the call is up.
      const adjusted = describeAdjustments(session.adjustments);
      if (adjusted) pill.message(adjusted);
      current.repairTimer = clock.setInterval(() => void current.repair.run(), REPAIR_EVERY_MS);
      const audio = await deps.startAudio({
        stream: current.conn.stream,
        silenceMs: options.silenceMs,
        onLevel: (level) => pill.level(level),
        onSpeech,
      }).catch((err) => {
        log.add({ type: "page.vad_unavailable", message: String(err) }, "note");
        return null;
      });
      // Stopped while the worklet loaded: nothing else will close this AudioContext.
      if (live === current) current.audio = audio;
      else await audio?.stop();
    } catch (err) {
      if (live !== current) return;
      const d = describeError(err);
      pill.message(d.text, d.detail);
      await teardown();
      // After teardown: the settings are enabled again, so the field can take focus.
      if (d.field) controls.invalid?.(d.field, d.text);
      if (d.retryAfter) controls.holdStart(d.retryAfter, () => live !== null);
    }
  }

  /**
   * Stop pressed: end the open turn (the page commits it: text the model streamed before any
   * commit counts as an open turn too), wait for every line's final text or failure, keep what
   * is still unfinished after {@linkcode STOP_DRAIN_MS} as "(cut off)", then hang up. The pill
   * says "Finishing…" until then.
   */
  async function stop() {
    if (!live || live.stopping) return;
    const current = live;
    current.stopping = true;
    pill.set("stopping");
    controls.stopping();
    const uncommitted = timeline.transcript.list().some((u) =>
      !u.committed && (u.status === "partial" || u.status === "pending")
    );
    if (current.turns.closeAt(clock.now()) || uncommitted) commitTurn();
    const deadline = clock.now() + STOP_DRAIN_MS;
    while (clock.now() < deadline && timeline.pending()) {
      await sleep(clock, 100);
    }
    captions.cutOff();
    await teardown();
    pill.set("idle", "Stopped");
  }

  /** The connection ended without Stop: ask the server why, and say so. */
  async function serverEnded() {
    if (!live || live.stopping) return;
    const current = live;
    current.stopping = true;
    let reason = current.endReason;
    try {
      const id = encodeURIComponent(/** @type {SessionInfo} */ (current.session).sessionId);
      const data = await getJson(`/api/sessions/${id}`);
      reason = data?.session?.endReason ?? data?.endReason ?? reason;
    } catch { /* keep what the events said */ }
    await teardown();
    pill.set("idle", "Ended");
    pill.message(describeEndReason(reason, deps.limits?.() ?? {}));
  }

  async function teardown() {
    const current = live;
    if (!current) return;
    clock.clearInterval(current.repairTimer);
    current.watch?.stop();
    await current.repair.run();
    live = null;
    current.abort.abort();
    await deps.translations?.stop().catch(() => {});
    await current.audio?.stop().catch(() => {});
    await current.conn?.stop().catch(() => {});
    // The page opened the microphone, so the page closes it.
    current.mic.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
    pill.speaking(false);
    pill.level(0);
    controls.ended();
    if (pill.state !== "idle") pill.set("idle");
  }

  return {
    start,
    stop,
    commitTurn,
    /** True from Start until the session has ended. */
    get active() {
      return live !== null;
    },
    /** The page VAD's silence changed in the settings. @param {number} ms */
    setSilence(ms) {
      live?.audio?.setSilence(ms);
    },
  };
}

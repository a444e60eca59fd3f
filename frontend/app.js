// @ts-check
/**
 * The page: Start/Stop, live captions, settings, exports, caption mode. Wires the connection
 * (`connection.js`, `preminter.js`), the transcript (`timeline.js` over `/shared/transcript.js`),
 * the settings panel, the page's VAD (`audio.js`) and the views together.
 *
 * @module
 */
import { connect, openMicrophone } from "./connection.js";
// issue #8: call retries, ICE reconnect and rotation before the session limit.
import { createCallKeeper, describeHandover, retryingFetch } from "./resilience.js";
import { createPreminter } from "./preminter.js";
import { describeEndReason, describeError, fetchJson, postUtterances } from "./api.js";
import { bindSettings, buildSessionOptions, pageCommits } from "./settings.js";
import { startAudio } from "./audio.js";
import { EventLog, StatusView, TranscriptView } from "./view.js";
import { showBanners } from "./banners.js";
import { Timeline } from "./timeline.js";
import { CallClock } from "./call_clock.js";
import { toTxt } from "../shared/formats.js";
import { itemIdOf } from "../shared/transcript.js";
import {
  bindShortcuts,
  copyText,
  downloadTranscript,
  holdButton,
  refreshMics,
  rememberMic,
  toggleCaptionMode,
} from "./tools.js";

const $ = (
  /** @type {string} */ id,
) => /** @type {HTMLElement} */ (document.getElementById(id));
const startBtn = /** @type {HTMLButtonElement} */ ($("start"));
const stopBtn = /** @type {HTMLButtonElement} */ ($("stop"));
const commitBtn = /** @type {HTMLButtonElement} */ ($("commit"));
const shareBtn = /** @type {HTMLButtonElement} */ ($("share"));
const captionsBtn = /** @type {HTMLButtonElement} */ ($("captions"));
const micSelect = /** @type {HTMLSelectElement} */ ($("mic"));
const show = new StatusView({
  status: $("status"),
  message: $("message"),
  level: $("level"),
  speaking: $("speaking"),
});

const view = new TranscriptView({
  list: /** @type {HTMLOListElement} */ ($("transcript")),
  empty: $("empty"),
  announcer: $("announcer"),
});
const log = new EventLog({
  list: /** @type {HTMLOListElement} */ ($("log")),
  counter: $("log-count"),
});
const timeline = new Timeline();
/** The `/api/config` answer. @type {Record<string, any>} */
let cfg = {};
/** @type {ReturnType<typeof bindSettings>|null} */
let ui = null;
/** Mints the session before Start is pressed (primed on hover/focus of Start). */
const preminter = createPreminter({
  options: () => (ui ? buildSessionOptions(ui.settings, ui.model()) : {}),
  onError: () => {/* take() mints again and reports */},
});

/**
 * @typedef {{ startMs: number|null, endMs: number|null, wallEnd: number }} Segment
 * @typedef {{ session: any, conn: any, audio: any, mic: Promise<MediaStream>,
 *   clientCommits: boolean, stopping: boolean, speechStart: number|null,
 *   lastSpeechEnd: number|null, segments: Segment[], repair: number, posted: number,
 *   endReason: string|null, abort: AbortController, clock: CallClock,
 *   watch?: import("./resilience.js").CallWatch|null, handingOver?: boolean }} Live
 */
/** The running session, or null. @type {Live|null} */
let live = null;
/** issue #8: SDP posts to OpenAI retry 429/503; lost or expiring calls move to a new call. */
const callFetch = retryingFetch();
const keeper = createCallKeeper({
  live: () => live,
  connect: async (session, current) =>
    await connectCall(/** @type {Live} */ (current), session, await current.mic),
  // Only the call being let go is drained; the new one's lines are already on their way.
  pending: () => timeline.pending(live?.clock.keyOf(live.conn)),
  onStatus: (text) => show.set("starting", text),
  onHandedOver: async (next) => {
    // The new call's lines continue the same transcript, shifted by the call's offset.
    await repair();
    show.set("live");
    show.message(describeHandover(next));
  },
  onFailed: () => void serverEnded(),
});

/**
 * Connects one call of the live session; its events are tagged with the call (see
 * `call_clock.js`: each call's audio clock starts at 0).
 *
 * @param {Live} current
 * @param {any} session
 * @param {MediaStream} stream
 */
async function connectCall(current, session, stream) {
  const key = current.clock.nextKey();
  const conn = await connect({
    session,
    stream,
    onEvent: (event) => onEvent(event, key),
    onStatus,
    signal: current.abort.signal,
    fetch: callFetch,
  });
  current.clock.opened(conn, key, session.sessionId);
  return conn;
}

/**
 * Redraws the lines of one call after its offset changed.
 * @param {number} key
 */
function rerenderCall(key) {
  for (const u of timeline.transcript.list()) {
    if (timeline.callOf(u.itemId) === key) view.render(timeline.shifted(u), timeline.factsFor(u));
  }
}

/**
 * @param {Record<string, any>} event
 * @param {number} [call] the page's key of the call that sent it
 */
function onEvent(event, call) {
  log.add(event);
  if (!live) return;
  live.watch?.noteEvent(event); // issue #8: the session's expires_at, turns in progress
  const id = typeof event.item_id === "string" ? event.item_id : null;
  const type = event.type;
  if (
    id && (type === "input_audio_buffer.speech_stopped" ||
      (type === "input_audio_buffer.committed" && !timeline.hasSpeechEnd(id)))
  ) {
    const seg = live.clientCommits && type === "input_audio_buffer.committed"
      ? live.segments.shift()
      : null;
    // Speech end = the page's last speech frame when it is recent, else when the event came.
    const now = performance.now();
    const heard = live.audio?.lastSpeechWall() ?? live.lastSpeechEnd;
    const wall = seg?.wallEnd ??
      (heard && heard <= now && now - heard < 3000 ? heard : now);
    timeline.speechEnded(id, wall, seg);
  }
  if (type === "error") {
    const err = event.error ?? {};
    if (err.code === "session_expired" && !live.handingOver) {
      // (issue #8: the call being replaced may expire during a handover; the session goes on.)
      // Terminal: OpenAI closes the session right after this event.
      live.endReason = "session_expired";
      setTimeout(() => void serverEnded(), 300);
    } else if (err.code !== "input_audio_buffer_commit_empty") {
      show.message(
        `OpenAI reported an error: ${err.message || err.code || "unknown"}.`,
      );
    }
  }
  const item = itemIdOf(event);
  if (item && call !== undefined) timeline.noteCall(item, call);
  const u = timeline.transcript.apply(event);
  if (!u) return;
  view.render(timeline.shifted(u), timeline.factsFor(u));
  view.order(timeline.all());
}

/** Sends the commit that ends the current turn (page-VAD models). */
function commitTurn() {
  if (!live?.clientCommits || !live.conn) return;
  const event = { type: "input_audio_buffer.commit" };
  live.conn.send(event);
  log.add(event, "out");
}

/** @param {import("./audio.js").SpeechEdge} edge */
function onSpeech(edge) {
  show.speaking(edge.speaking);
  if (!live) return;
  if (edge.speaking) {
    live.speechStart = edge.atMs;
    return;
  }
  // A long turn cut in a pause: said in the log, the commit below is the same.
  if (edge.reason === "max_length") log.add({ type: "page.turn_max_length" }, "note");
  live.lastSpeechEnd = edge.wallMs;
  if (!live.clientCommits) return;
  live.segments.push({
    startMs: live.speechStart,
    endMs: edge.atMs,
    wallEnd: edge.wallMs,
  });
  live.speechStart = null;
  commitTurn();
}

/** @param {string} status */
function onStatus(status) {
  if (!live || live.stopping) return;
  log.add({ type: `page.status.${status}` }, "note");
  if (live.handingOver) return; // issue #8: a handover is in progress
  // Checked first: the sideband is attached while the call is still connecting (no conn yet).
  if (status === "sideband_failed") {
    show.message(
      "The server could not attach to this call: captions show here, and this page saves the " +
        "final lines to the server itself.",
    );
  } else if (!live.conn) show.set("starting", StatusView.LABELS[status]);
  else if (live.watch && /^(failed|disconnected)$/.test(status)) {
    show.set("starting", "Reconnecting…"); // issue #8: the call keeper decides
  } else if (/^(closed|failed|ended)$/.test(status)) void serverEnded();
  else if (status === "connected") show.set("live");
  else if (status === "disconnected") {
    // WebRTC may recover from "disconnected"; if it does not soon, the call is over.
    show.set("starting", "Reconnecting…");
    const current = live;
    setTimeout(() => {
      if (
        live === current && current.conn?.pc?.connectionState !== "connected"
      ) {
        void serverEnded();
      }
    }, 4000);
  }
}

/** Gap repair: uploads new final lines (every 15 s and at the end). */
async function repair() {
  if (!live?.session) return;
  const current = live;
  // Posted times are final once stored: wait (briefly) for the server's call offsets first.
  await current.clock.settled(3000);
  const finals = timeline.transcript.list().filter((u) => u.status === "final");
  if (finals.length === 0 || finals.length === current.posted) return;
  const { sessionId, ticket } = current.session;
  const utterances = finals.map((u) => {
    // A turn the page committed has no server times: its turn detector's times go with it.
    const s = timeline.sessionTimes(u);
    const f = timeline.facts.get(u.itemId);
    const ms = (/** @type {number|null|undefined} */ v) =>
      typeof v === "number" ? Math.round(v) : null;
    return { ...s, startMs: s.startMs ?? ms(f?.startMs), endMs: s.endMs ?? ms(f?.endMs) };
  });
  if (await postUtterances({ sessionId, ticket, utterances })) {
    current.posted = finals.length;
  }
}

async function start() {
  if (live || startBtn.disabled) return;
  show.message(null);
  show.set("starting");
  startBtn.disabled = true;
  ui?.setDisabled(true);
  if (timeline.transcript.size) {
    timeline.archive();
    view.clear();
    for (const u of timeline.archived) {
      view.render(u, timeline.facts.get(u.itemId));
    }
  }
  /** @type {Live} */
  const current = {
    session: null,
    conn: null,
    audio: null,
    // The microphone opens while the session is minted (or taken ready-made).
    mic: openMicrophone({ deviceId: micSelect.value || undefined }),
    clientCommits: ui ? pageCommits(ui.settings, ui.model()) : false,
    stopping: false,
    speechStart: null,
    lastSpeechEnd: null,
    segments: [],
    repair: 0,
    posted: 0,
    endReason: null,
    abort: new AbortController(),
    clock: new CallClock({ timeline, fetchJson, rerender: rerenderCall }),
  };
  live = current;
  current.mic.catch(() => {/* reported below */});
  try {
    current.session = await preminter.take();
    if (typeof current.session.clientCommits === "boolean") {
      current.clientCommits = current.session.clientCommits;
    }
    // A session that started no call is handed back (a failed microphone must not use up a slot).
    const stream = await current.mic.catch((err) => {
      preminter.giveBack(current.session);
      throw err;
    });
    current.conn = await connectCall(current, current.session, stream);
    if (live !== current) return;
    keeper.watch(current);
    shareBtn.disabled = false;
    shareBtn.dataset.sessionId = current.session.sessionId;
    stopBtn.disabled = false;
    commitBtn.hidden = !current.clientCommits;
    show.set("live");
    current.repair = setInterval(() => void repair(), 15_000);
    void refreshMics(micSelect);
    const audio = await startAudio({
      stream: current.conn.stream,
      silenceMs: ui?.settings.pageSilenceMs ?? 700,
      onLevel: (level) => show.level(level),
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
    show.message(d.text);
    await teardown();
    if (d.retryAfter) holdButton(startBtn, d.retryAfter, "Start", () => Boolean(live));
  }
}

/** Stop pressed: end the turn, wait briefly for pending text, then hang up. */
async function stop() {
  if (!live || live.stopping) return;
  const current = live;
  current.stopping = true;
  show.set("stopping");
  stopBtn.disabled = true;
  if (current.clientCommits && current.speechStart !== null) {
    current.segments.push({
      startMs: current.speechStart,
      endMs: null,
      wallEnd: performance.now(),
    });
    commitTurn();
  }
  const deadline = performance.now() + 2500;
  while (performance.now() < deadline && timeline.pending()) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await teardown();
  show.set("idle", "Stopped");
}

/** The connection ended without Stop: ask the server why, and say so. */
async function serverEnded() {
  if (!live || live.stopping) return;
  const current = live;
  current.stopping = true;
  let reason = current.endReason;
  try {
    const id = encodeURIComponent(current.session.sessionId);
    const data = await fetchJson(`/api/sessions/${id}`);
    reason = data?.session?.endReason ?? data?.endReason ?? reason;
  } catch { /* keep what the events said */ }
  await teardown();
  show.set("idle", "Ended");
  show.message(describeEndReason(reason, cfg.limits ?? {}));
}

async function teardown() {
  const current = live;
  if (!current) return;
  clearInterval(current.repair);
  current.watch?.stop();
  await repair();
  live = null;
  current.abort.abort();
  await current.audio?.stop().catch(() => {});
  await current.conn?.stop().catch(() => {});
  // The page opened the microphone, so the page closes it.
  current.mic.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
  onSpeech({ speaking: false, atMs: 0, wallMs: 0 });
  show.level(0);
  stopBtn.disabled = true;
  commitBtn.hidden = true;
  startBtn.disabled = false;
  ui?.setDisabled(false);
  if (show.state !== "idle") show.set("idle");
}

async function copyTranscript() {
  const text = toTxt(timeline.all());
  await copyText(text);
  show.toast(text ? "Copied" : "Nothing to copy yet");
}

/** @param {string} kind */
function exportAs(kind) {
  downloadTranscript(kind, timeline.all(), {
    sessionId: shareBtn.dataset.sessionId ?? null,
    model: ui?.model()?.id ?? null,
    exportedAt: new Date().toISOString(),
  });
}

async function share() {
  const id = shareBtn.dataset.sessionId;
  if (!id) return;
  const url = `${location.origin}/s/${encodeURIComponent(id)}`;
  try {
    await navigator.clipboard.writeText(url);
    show.toast("Share link copied");
  } catch {
    show.message(`Share link: ${url}`);
  }
}

async function init() {
  startBtn.addEventListener("click", () => void start());
  for (const type of ["pointerenter", "focus", "touchstart"]) {
    startBtn.addEventListener(type, () => preminter.prime(), { passive: true });
  }
  stopBtn.addEventListener("click", () => void stop());
  commitBtn.addEventListener("click", commitTurn);
  $("copy").addEventListener("click", () => void copyTranscript());
  $("clear").addEventListener("click", () => {
    timeline.clear();
    view.clear();
  });
  shareBtn.addEventListener("click", () => void share());
  captionsBtn.addEventListener("click", () => toggleCaptionMode(captionsBtn));
  for (const b of document.querySelectorAll("[data-export]")) {
    b.addEventListener(
      "click",
      () => exportAs(/** @type {HTMLElement} */ (b).dataset.export ?? ""),
    );
  }
  bindShortcuts({
    s: () => (live ? stop() : start()),
    c: copyTranscript,
    e: () => exportAs("txt"),
    f: () => toggleCaptionMode(captionsBtn),
    escape: () => toggleCaptionMode(captionsBtn, false),
    enter: commitTurn,
  });
  rememberMic(micSelect);
  navigator.mediaDevices?.addEventListener?.(
    "devicechange",
    () => void refreshMics(micSelect),
  );
  void refreshMics(micSelect);
  // On a phone the transcript comes first; settings stay one tap away.
  if (matchMedia("(max-width: 800px)").matches) {
    /** @type {HTMLDetailsElement} */ ($("settings-panel")).open = false;
  }
  const [config, models] = await Promise.all([
    fetchJson("/api/config").catch(() => ({})),
    fetchJson("/api/models").catch(() => ({})),
  ]);
  cfg = config ?? {};
  showBanners($("banners"), cfg);
  ui = bindSettings({
    form: /** @type {HTMLFormElement} */ ($("settings")),
    models: Array.isArray(models?.models) ? models.models : Array.isArray(models) ? models : [],
    defaultModel: cfg.defaultModel ?? models?.defaultModel,
    onChange: (s) => {
      live?.audio?.setSilence(s.pageSilenceMs);
      if (!live) preminter.invalidate();
    },
  });
  document.body.dataset.ready = "true";
}

void init();

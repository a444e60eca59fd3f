// @ts-check
/**
 * The page: Start/Stop, live captions, settings, exports, caption mode. Wires the connection
 * (`connection.js`), the transcript fold (`/shared/transcript.js`), the export formats
 * (`/shared/formats.js`), the settings panel, the page's VAD and the views together.
 *
 * @module
 */
import { Transcript } from "../shared/transcript.js";
import { toJson, toSrt, toTxt, toVtt } from "../shared/formats.js";
import { connect, openMicrophone } from "./connection.js";
import { createPreminter } from "./preminter.js";
import { describeEndReason, describeError, fetchJson } from "./api.js";
import { bindSettings, buildSessionOptions, pageCommits } from "./settings.js";
import { startAudio } from "./audio.js";
import { EventLog, TranscriptView } from "./view.js";
import { showBanners } from "./banners.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const startBtn = /** @type {HTMLButtonElement} */ ($("start"));
const stopBtn = /** @type {HTMLButtonElement} */ ($("stop"));
const commitBtn = /** @type {HTMLButtonElement} */ ($("commit"));
const shareBtn = /** @type {HTMLButtonElement} */ ($("share"));
const captionsBtn = /** @type {HTMLButtonElement} */ ($("captions"));
const micSelect = /** @type {HTMLSelectElement} */ ($("mic"));
const levelBar = /** @type {HTMLElement} */ ($("level").firstElementChild);
const speaking = $("speaking");
const statusEl = $("status");
const messageEl = $("message");

const view = new TranscriptView({
  list: /** @type {HTMLOListElement} */ ($("transcript")),
  empty: $("empty"),
  announcer: $("announcer"),
});
const log = new EventLog({ list: /** @type {HTMLOListElement} */ ($("log")), counter: $("log-count") });

let transcript = new Transcript();
/** Finished sessions' final lines, shifted onto one timeline. @type {Utterance[]} */
let archived = [];
let offsetMs = 0;
/** Page-side facts per item: latency, page-VAD times. @type {Map<string, {speechEndWall?: number, latencyMs?: number|null, startMs?: number|null, endMs?: number|null}>} */
const info = new Map();
/** @type {any} */
let cfg = {};
/** @type {ReturnType<typeof bindSettings>|null} */
let ui = null;
/** Mints the session before Start is pressed (primed on hover/focus of Start). */
const preminter = createPreminter({
  options: () => (ui ? buildSessionOptions(ui.settings, ui.model()) : {}),
  onError: () => {/* take() mints again and reports */},
});

/**
 * The running session, or null.
 * @type {null | { session: any, conn: any, audio: any, clientCommits: boolean, stopping: boolean,
 *   speechStart: number|null, lastSpeechEnd: number|null, pendingSegments: any[], repair: number,
 *   posted: number, endReason: string|null, abort: AbortController,
 *   mic: Promise<MediaStream>|null }}
 */
let live = null;

/** @param {string} state @param {string} [text] */
function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text ?? state;
}

/** @param {string|null} text */
function showMessage(text) {
  messageEl.textContent = text ?? "";
  messageEl.hidden = !text;
}

/** @param {string} text */
function toast(text) {
  setStatus(statusEl.dataset.state ?? "idle", text);
  const state = statusEl.dataset.state;
  setTimeout(() => {
    if (statusEl.textContent === text) setStatus(state ?? "idle", labelFor(state ?? "idle"));
  }, 2000);
}

/** @param {string} state */
function labelFor(state) {
  return { idle: "Ready", starting: "Connecting…", live: "Live", stopping: "Finishing…" }[state] ??
    state;
}

/** @param {Utterance} u */
function shifted(u) {
  return offsetMs && archived.length
    ? {
      ...u,
      startMs: u.startMs === null ? null : u.startMs + offsetMs,
      endMs: u.endMs === null ? null : u.endMs + offsetMs,
    }
    : u;
}

/** Every line on screen, in order, on one timeline. */
function allUtterances() {
  return [...archived, ...transcript.list().map(shifted)];
}

/** @param {Utterance} u */
function renderOne(u) {
  const i = info.get(u.itemId) ?? {};
  if (u.status === "final" && i.latencyMs === undefined) {
    i.latencyMs = i.speechEndWall ? performance.now() - i.speechEndWall : null;
    info.set(u.itemId, i);
  }
  const shift = (/** @type {number|null|undefined} */ v) =>
    typeof v === "number" ? v + (archived.length ? offsetMs : 0) : null;
  view.render(shifted(u), { ...i, startMs: shift(i.startMs), endMs: shift(i.endMs) });
}

/** @param {Record<string, any>} event */
function onEvent(event) {
  log.add(event);
  if (!live) return;
  const id = typeof event.item_id === "string" ? event.item_id : null;
  const now = performance.now();
  if (id && (event.type === "input_audio_buffer.speech_stopped" ||
    (event.type === "input_audio_buffer.committed" && !info.get(id)?.speechEndWall))) {
    const seg = live.clientCommits && event.type === "input_audio_buffer.committed"
      ? live.pendingSegments.shift()
      : null;
    const i = info.get(id) ?? {};
    // Speech end = the page's last speech frame when it is recent, else when the event came.
    const heard = live.audio?.lastSpeechWall() ?? live.lastSpeechEnd;
    i.speechEndWall = seg?.wallEnd ?? (heard && heard <= now && now - heard < 3000 ? heard : now);
    if (seg) Object.assign(i, { startMs: seg.startMs, endMs: seg.endMs });
    info.set(id, i);
  }
  if (event.type === "error") {
    const err = event.error ?? {};
    if (err.code === "session_expired") {
      // Terminal: OpenAI closes the session right after this event.
      live.endReason = "session_expired";
      setTimeout(() => void serverEnded(), 300);
    }
    else if (err.code !== "input_audio_buffer_commit_empty") {
      showMessage(`OpenAI reported an error: ${err.message || err.code || "unknown"}.`);
    }
  }
  const u = transcript.apply(event);
  if (!u) return;
  renderOne(u);
  view.order(allUtterances());
}

/** Sends the commit that ends the current turn (page-VAD models). */
function commitTurn() {
  if (!live?.clientCommits || !live.conn) return;
  const event = { type: "input_audio_buffer.commit" };
  live.conn.send(event);
  log.add(event, "out");
}

/** @param {{ speaking: boolean, atMs: number, wallMs: number }} edge */
function onSpeech(edge) {
  speaking.dataset.on = String(edge.speaking);
  /** @type {HTMLElement} */ (speaking.querySelector(".label")).textContent = edge.speaking
    ? "Speaking"
    : "Silent";
  if (!live) return;
  if (edge.speaking) live.speechStart = edge.atMs;
  else {
    live.lastSpeechEnd = edge.wallMs;
    if (live.clientCommits) {
      live.pendingSegments.push({
        startMs: live.speechStart,
        endMs: edge.atMs,
        wallEnd: edge.wallMs,
      });
      live.speechStart = null;
      commitTurn();
    }
  }
}

/** @param {number} level */
function onLevel(level) {
  levelBar.style.setProperty("width", `${Math.round(level * 100)}%`);
  $("level").setAttribute("aria-valuenow", String(Math.round(level * 100)));
}

/** @param {string} status */
function onStatus(status) {
  if (!live || live.stopping) return;
  log.add({ type: `page.status.${status}` }, "note");
  if (!live.conn) {
    setStatus("starting", { microphone: "Opening microphone…", negotiating: "Connecting…" }[status] ?? "Connecting…");
  } else if (/^(closed|failed|ended)$/.test(status)) void serverEnded();
  else if (status === "disconnected") {
    // WebRTC may recover from "disconnected"; if it does not soon, the call is over.
    setStatus("starting", "Reconnecting…");
    const current = live;
    setTimeout(() => {
      if (live === current && current.conn?.pc?.connectionState !== "connected") {
        void serverEnded();
      }
    }, 4000);
  }
  else if (status === "connected") setStatus("live", labelFor("live"));
  else if (status === "sideband_failed") {
    showMessage("The server could not attach to this call: captions show here but are not saved for sharing.");
  }
}

/** Sends the finals this page saw to the server (gap repair). Tolerates a missing route. */
async function postUtterances() {
  if (!live) return;
  const finals = transcript.list().filter((u) => u.status === "final");
  if (finals.length === 0 || finals.length === live.posted) return;
  const { sessionId, ticket } = live.session;
  try {
    await fetchJson(`/api/sessions/${encodeURIComponent(sessionId)}/utterances`, {
      body: {
        ticket,
        utterances: finals.map((u) => ({
          itemId: u.itemId,
          previousItemId: u.previousItemId,
          text: u.text,
          startMs: u.startMs,
          endMs: u.endMs,
          confidence: u.confidence,
        })),
      },
    });
    if (live) live.posted = finals.length;
  } catch { /* best effort: the server's own record stands */ }
}

async function start() {
  if (live || startBtn.disabled) return;
  showMessage(null);
  setStatus("starting", labelFor("starting"));
  startBtn.disabled = true;
  ui?.setDisabled(true);
  if (transcript.size) archive();
  const settings = ui?.settings;
  const model = ui?.model();
  const abort = new AbortController();
  live = {
    session: null,
    conn: null,
    audio: null,
    clientCommits: settings ? pageCommits(settings, model) : false,
    stopping: false,
    speechStart: null,
    lastSpeechEnd: null,
    pendingSegments: [],
    repair: 0,
    posted: 0,
    endReason: null,
    abort,
    mic: null,
  };
  const current = live;
  // The microphone opens while the session is minted (or taken ready-made from the preminter).
  current.mic = openMicrophone({ deviceId: micSelect.value || undefined });
  current.mic.catch(() => {/* reported below */});
  try {
    current.session = await preminter.take();
    if (typeof current.session.clientCommits === "boolean") {
      current.clientCommits = current.session.clientCommits;
    }
    current.conn = await connect({
      session: current.session,
      stream: await current.mic,
      onEvent,
      onStatus,
      signal: abort.signal,
    });
    if (live !== current) return;
    shareBtn.disabled = false;
    shareBtn.dataset.sessionId = current.session.sessionId;
    stopBtn.disabled = false;
    commitBtn.hidden = !current.clientCommits;
    setStatus("live", labelFor("live"));
    current.repair = setInterval(postUtterances, 15_000);
    void refreshMics();
    if (current.conn.stream) {
      current.audio = await startAudio({
        stream: current.conn.stream,
        silenceMs: settings?.pageSilenceMs ?? 700,
        onLevel,
        onSpeech,
      }).catch((err) => {
        log.add({ type: "page.vad_unavailable", message: String(err) }, "note");
        return null;
      });
    }
  } catch (err) {
    if (live !== current) return;
    const d = describeError(err);
    showMessage(d.text);
    await teardown();
    if (d.retryAfter) holdStart(d.retryAfter);
  }
}

/** Keeps Start disabled for `seconds`, counting down on the button. @param {number} seconds */
function holdStart(seconds) {
  let left = Math.ceil(seconds);
  startBtn.disabled = true;
  const tick = () => {
    if (left <= 0) {
      startBtn.disabled = Boolean(live);
      startBtn.textContent = "Start";
      return;
    }
    startBtn.textContent = `Start (${left--} s)`;
    setTimeout(tick, 1000);
  };
  tick();
}

/** Stop pressed: end the turn, wait briefly for pending text, then hang up. */
async function stop() {
  if (!live || live.stopping) return;
  const current = live;
  current.stopping = true;
  setStatus("stopping", labelFor("stopping"));
  stopBtn.disabled = true;
  if (current.clientCommits && current.speechStart !== null) {
    current.pendingSegments.push({
      startMs: current.speechStart,
      endMs: null,
      wallEnd: performance.now(),
    });
    commitTurn();
  }
  const deadline = performance.now() + 2500;
  while (
    performance.now() < deadline &&
    transcript.list().some((u) => u.status === "pending" || u.status === "partial")
  ) await new Promise((r) => setTimeout(r, 100));
  await teardown();
  setStatus("idle", "Stopped");
}

/** The connection ended without Stop: ask the server why, and say so. */
async function serverEnded() {
  if (!live || live.stopping) return;
  const current = live;
  current.stopping = true;
  let reason = current.endReason;
  try {
    const data = await fetchJson(`/api/sessions/${encodeURIComponent(current.session.sessionId)}`);
    reason = data?.session?.endReason ?? data?.endReason ?? reason;
  } catch { /* keep what the events said */ }
  await teardown();
  setStatus("idle", "Ended");
  showMessage(describeEndReason(reason, cfg?.limits ?? {}));
}

async function teardown() {
  const current = live;
  if (!current) return;
  clearInterval(current.repair);
  await postUtterances();
  live = null;
  current.abort.abort();
  await current.audio?.stop().catch(() => {});
  try {
    await current.conn?.stop();
  } catch { /* already closed */ }
  // The page opened the microphone, so the page closes it.
  current.mic?.then((stream) => stream.getTracks().forEach((t) => t.stop()), () => {});
  onSpeech({ speaking: false, atMs: 0, wallMs: 0 });
  onLevel(0);
  stopBtn.disabled = true;
  commitBtn.hidden = true;
  startBtn.disabled = false;
  ui?.setDisabled(false);
  if (statusEl.dataset.state !== "idle") setStatus("idle", labelFor("idle"));
}

/** Moves the current session's lines to the archive before a new session starts. */
function archive() {
  const lines = transcript.list().map(shifted).filter((u) => u.status === "final");
  archived = [...archived, ...lines];
  const ends = archived.map((u) => u.endMs ?? u.startMs ?? 0);
  offsetMs = ends.length ? Math.max(...ends) + 1000 : 0;
  transcript = new Transcript();
  view.clear();
  for (const u of archived) view.render(u, info.get(u.itemId) ?? {});
}

function clearAll() {
  transcript.clear();
  archived = [];
  offsetMs = 0;
  info.clear();
  view.clear();
}

async function copyText() {
  const text = toTxt(allUtterances());
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast(text ? "Copied" : "Nothing to copy yet");
}

/** @param {string} kind txt | srt | vtt | json */
function exportAs(kind) {
  const list = allUtterances();
  const meta = {
    sessionId: shareBtn.dataset.sessionId ?? null,
    model: ui?.model()?.id ?? null,
    exportedAt: new Date().toISOString(),
  };
  const [text, type] = kind === "srt"
    ? [toSrt(list), "application/x-subrip"]
    : kind === "vtt"
    ? [toVtt(list), "text/vtt"]
    : kind === "json"
    ? [toJson(list, meta), "application/json"]
    : [toTxt(list), "text/plain"];
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `transcript-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, "")}.${kind}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function share() {
  const id = live?.session?.sessionId ?? shareBtn.dataset.sessionId;
  if (!id) return;
  const url = `${location.origin}/s/${encodeURIComponent(id)}`;
  try {
    await navigator.clipboard.writeText(url);
    toast("Share link copied");
  } catch {
    showMessage(`Share link: ${url}`);
  }
}

function toggleCaptions(/** @type {boolean} */ on = !document.body.classList.contains("captions")) {
  document.body.classList.toggle("captions", on);
  captionsBtn.setAttribute("aria-pressed", String(on));
}

async function refreshMics() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const chosen = micSelect.value || localStorage.getItem("hello-transcription.mic") || "";
    micSelect.replaceChildren(new Option("Default microphone", ""));
    let n = 0;
    for (const d of devices) {
      if (d.kind !== "audioinput" || !d.deviceId || d.deviceId === "default") continue;
      micSelect.append(new Option(d.label || `Microphone ${++n}`, d.deviceId));
    }
    micSelect.value = [...micSelect.options].some((o) => o.value === chosen) ? chosen : "";
  } catch { /* no mediaDevices (insecure context): the default stays */ }
}

/** @param {KeyboardEvent} ev */
function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = /** @type {HTMLElement} */ (ev.target);
  if (t.closest("input, textarea, select, [contenteditable]")) return;
  const key = ev.key.toLowerCase();
  const actions = /** @type {Record<string, () => unknown>} */ ({
    s: () => (live ? stop() : start()),
    c: copyText,
    e: () => exportAs("txt"),
    f: () => toggleCaptions(),
    escape: () => toggleCaptions(false),
    enter: () => (t.closest("button") ? null : commitTurn()),
  });
  const run = actions[key];
  if (!run) return;
  if (key === "enter" && t.closest("button, summary, a")) return;
  ev.preventDefault();
  void run();
}

async function init() {
  startBtn.addEventListener("click", () => void start());
  for (const type of ["pointerenter", "focus", "touchstart"]) {
    startBtn.addEventListener(type, () => preminter.prime(), { passive: true });
  }
  stopBtn.addEventListener("click", () => void stop());
  commitBtn.addEventListener("click", commitTurn);
  $("copy").addEventListener("click", () => void copyText());
  $("clear").addEventListener("click", clearAll);
  shareBtn.addEventListener("click", () => void share());
  captionsBtn.addEventListener("click", () => toggleCaptions());
  for (const b of document.querySelectorAll("[data-export]")) {
    b.addEventListener("click", () => exportAs(/** @type {HTMLElement} */ (b).dataset.export ?? "txt"));
  }
  micSelect.addEventListener("change", () => {
    try {
      localStorage.setItem("hello-transcription.mic", micSelect.value);
    } catch { /* ignore */ }
  });
  document.addEventListener("keydown", onKey);
  navigator.mediaDevices?.addEventListener?.("devicechange", () => void refreshMics());
  void refreshMics();
  const [config, models] = await Promise.all([
    fetchJson("/api/config").catch(() => ({})),
    fetchJson("/api/models").catch(() => []),
  ]);
  cfg = config ?? {};
  showBanners($("banners"), cfg);
  const list = Array.isArray(models) ? models : Array.isArray(models?.models) ? models.models : [];
  ui = bindSettings({
    form: /** @type {HTMLFormElement} */ ($("settings")),
    models: list,
    defaultModel: cfg.defaultModel ?? models?.defaultModel,
    onChange: (s) => {
      live?.audio?.setSilence(s.pageSilenceMs);
      if (!live) preminter.invalidate();
    },
  });
  document.body.dataset.ready = "true";
}

void init();

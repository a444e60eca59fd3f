// @ts-check
/**
 * The page's wiring: the DOM, the settings panel, the pre-minter, the live session
 * (`live_session.js`, which does the work) and copy/export/share (`sharing.js`) put together.
 *
 * @module
 */
import { connect, openMicrophone } from "./connection.js";
import { createLiveSession } from "./live_session.js";
import { createPreminter } from "./preminter.js";
import { fetchJson } from "./api.js";
import { bindSettings, buildSessionOptions, pageCommits } from "./settings.js";
import { startAudio } from "./audio.js";
import { bindPageViews } from "./view.js";
import { showBanners } from "./banners.js";
import { Timeline } from "./timeline.js";
import { bindSharing } from "./lazy.js";
import { bindShortcuts, holdButton, refreshMics, rememberMic, toggleCaptionMode } from "./tools.js";
import { bindReader } from "./reader.js";
import { clearWithUndo, lazyTranslations, rememberSession, restoreIfRemembered } from "./lazy.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const startBtn = /** @type {HTMLButtonElement} */ ($("start"));
const stopBtn = /** @type {HTMLButtonElement} */ ($("stop"));
const commitBtn = /** @type {HTMLButtonElement} */ ($("commit"));
const shareBtn = /** @type {HTMLButtonElement} */ ($("share"));
const captionsBtn = /** @type {HTMLButtonElement} */ ($("captions"));
const micSelect = /** @type {HTMLSelectElement} */ ($("mic"));
const { show, lines, log } = bindPageViews($); // caption lines: `TranscriptView`s (`view.js`)
const timeline = new Timeline();
const tr = lazyTranslations({ byId: $, lines, timeline }); // translations under the lines, on demand
/** The `/api/config` answer. @type {Record<string, any>} */
let cfg = {};
const reader = bindReader($, {
  onCaptionMode: () => lines.follower.jumpToLive(),
  clear: () => clearWithUndo(timeline, lines),
});
/** @type {ReturnType<typeof bindSettings>|null} */
let ui = null;
/** Mints the session on Start (never before: a key lives `EPHEMERAL_KEY_TTL_SECONDS`). */
const preminter = createPreminter({
  options: () => (ui ? buildSessionOptions(ui.settings, ui.model()) : {}),
});

const session = createLiveSession({
  connect,
  openMicrophone,
  startAudio,
  sessions: preminter,
  timeline,
  lines: tr.lines,
  translations: tr.calls,
  status: show,
  log,
  limits: () => cfg.limits ?? {},
  controls: {
    starting() {
      startBtn.disabled = true;
      ui?.setDisabled(true);
    },
    started({ sessionId, pageCommits }) {
      shareBtn.disabled = false;
      shareBtn.dataset.sessionId = sessionId;
      rememberSession(sessionId);
      stopBtn.disabled = false;
      commitBtn.hidden = !pageCommits;
      reader.moveFocus(startBtn, stopBtn);
      void refreshMics(micSelect);
    },
    stopping: () => void (stopBtn.disabled = true),
    ended() {
      stopBtn.disabled = true;
      commitBtn.hidden = true;
      startBtn.disabled = false;
      ui?.setDisabled(false);
      reader.moveFocus(stopBtn, startBtn);
    },
    holdStart: (seconds, busy) => holdButton(startBtn, seconds, "Start", busy),
    invalid: (field, text) => reader.invalid(field, text),
  },
});

function start() {
  if (startBtn.disabled) return; // held back after a 429, or already starting
  reader.forgetUndo();
  return session.start({
    deviceId: micSelect.value || undefined,
    pageCommits: ui ? pageCommits(ui.settings, ui.model()) : false,
    silenceMs: ui?.settings.pageSilenceMs ?? 700,
  });
}

async function init() {
  startBtn.addEventListener("click", () => void start());
  stopBtn.addEventListener("click", () => void session.stop());
  commitBtn.addEventListener("click", session.commitTurn);
  captionsBtn.addEventListener("click", () => toggleCaptionMode(captionsBtn));
  const { copy, exportAs } = bindSharing({
    copyButton: $("copy"),
    shareButton: shareBtn,
    exportButtons: document.querySelectorAll("[data-export]"),
    lines: () => timeline.shown(),
    sessionId: () => shareBtn.dataset.sessionId ?? null,
    model: () => ui?.model()?.id ?? null,
    show,
  });
  bindShortcuts({
    s: () => (session.active ? session.stop() : start()),
    c: copy,
    e: () => exportAs("txt"),
    f: () => toggleCaptionMode(captionsBtn),
    escape: () => toggleCaptionMode(captionsBtn, false),
    enter: session.commitTurn,
  }, reader.shortcuts);
  rememberMic(micSelect);
  navigator.mediaDevices?.addEventListener?.("devicechange", () => void refreshMics(micSelect));
  void refreshMics(micSelect);
  const [config, models] = await Promise.all([
    fetchJson("/api/config").catch(() => ({})),
    fetchJson("/api/models").catch(() => ({})),
  ]);
  cfg = config ?? {};
  showBanners($("banners"), cfg);
  reader.dismissible($("banners"));
  const restored = await restoreIfRemembered({ fetchJson, timeline, view: lines });
  if (restored) shareBtn.dataset.sessionId = restored;
  shareBtn.disabled = !restored;
  ui = bindSettings({
    form: /** @type {HTMLFormElement} */ ($("settings")),
    models: Array.isArray(models?.models) ? models.models : Array.isArray(models) ? models : [],
    defaultModel: cfg.defaultModel ?? models?.defaultModel,
    translation: cfg.translation,
    onChange: (s) => {
      session.setSilence(s.pageSilenceMs);
      if (!session.active) preminter.invalidate();
      if (s.translations) void tr.want(); // chosen: load them ahead of Start
    },
  });
  if (ui.settings.translations) void tr.want();
  document.body.dataset.ready = "true";
}

void init();

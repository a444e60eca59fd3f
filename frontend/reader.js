// @ts-check
/**
 * What the main page does for its readers beyond the session: the phone's "More" menu, caption
 * mode's floating bar (text size remembered, full screen), the reading preferences (confidence
 * marks, keyboard shortcuts), one dismissible banner, Clear with Undo, the height of the phone's
 * bottom bar, the `?debug` switch, focus after Start and Stop, and settings the server refused
 * marked where they are.
 *
 * @module
 */

const PREFS_KEY = "hello-transcription.reader.v1";
/** Caption text sizes (steps of the caption font), A− / A+. */
export const CAPTION_SCALES = [0.75, 0.875, 1, 1.15, 1.3, 1.5];

/** The request's fields (`POST /api/session`) → the settings control that sets them. */
const FIELD_IDS = {
  model: "model",
  language: "language",
  languages: "languages",
  prompt: "prompt",
  keywords: "keywords",
  delay: "delay",
  noiseReduction: "noise",
  noiseReductionStrength: "noiseStrength",
  turnDetection: "turn",
  "turnDetection.threshold": "threshold",
  "turnDetection.prefixPaddingMs": "prefixMs",
  "turnDetection.silenceDurationMs": "silenceMs",
  "turnDetection.eagerness": "eagerness",
  logprobs: "logprobs",
};

/**
 * The settings control for a refused request field (`languages.0` → `languages`), or null.
 *
 * @param {string} field the server's dotted path
 * @returns {string|null}
 */
export function controlForField(field) {
  const map = /** @type {Record<string, string>} */ (FIELD_IDS);
  const parts = field.split(".");
  while (parts.length) {
    const id = map[parts.join(".")];
    if (id) return id;
    parts.pop();
  }
  return null;
}

/**
 * Checks a "possible languages" entry as it is typed: comma-separated ISO-639-1 codes.
 *
 * @param {string} value
 * @param {readonly string[]} known the codes the page offers
 * @returns {string|null} what is wrong, or null
 */
export function languagesProblem(value, known) {
  const bad = value.split(",").map((c) => c.trim()).filter(Boolean)
    .filter((c) => !known.includes(c.toLowerCase()));
  if (!bad.length) return null;
  return `Not a language code: ${bad.join(", ")}. Use two-letter codes such as en, fr.`;
}

/** @returns {{ confidence: boolean, shortcuts: boolean, scale: number }} */
function loadPrefs() {
  const prefs = { confidence: true, shortcuts: true, scale: 1 };
  try {
    const saved = JSON.parse(localStorage.getItem(PREFS_KEY) ?? "{}");
    if (typeof saved.confidence === "boolean") prefs.confidence = saved.confidence;
    if (typeof saved.shortcuts === "boolean") prefs.shortcuts = saved.shortcuts;
    if (CAPTION_SCALES.includes(saved.scale)) prefs.scale = saved.scale;
  } catch { /* storage unavailable: defaults */ }
  return prefs;
}

/**
 * Binds the reader's parts of the page (the ids in `index.html`).
 *
 * @param {(id: string) => HTMLElement} $
 * @param {{ onCaptionMode: () => void, clear: () => () => void }} hooks `onCaptionMode`: caption
 *   mode or its text size changed (the list re-follows); `clear`: empties the transcript and
 *   returns how to put it back
 */
export function bindReader($, hooks) {
  const body = document.body;
  const prefs = loadPrefs();
  const save = () => {
    try {
      localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
    } catch { /* storage unavailable */ }
  };
  if (new URLSearchParams(location.search).has("debug")) {
    body.dataset.debug = "true";
    $("log-panel").hidden = false;
  }

  // Reading preferences.
  const conf = /** @type {HTMLInputElement} */ ($("pref-confidence"));
  const keys = /** @type {HTMLInputElement} */ ($("pref-shortcuts"));
  const applyPrefs = () => {
    body.dataset.confidence = prefs.confidence ? "on" : "off";
    conf.checked = prefs.confidence;
    keys.checked = prefs.shortcuts;
    document.documentElement.style.setProperty("--caption-scale", String(prefs.scale));
  };
  conf.addEventListener("change", () => {
    prefs.confidence = conf.checked;
    save();
    applyPrefs();
  });
  keys.addEventListener("change", () => {
    prefs.shortcuts = keys.checked;
    save();
  });
  applyPrefs();

  document.addEventListener("captionmode", () => hooks.onCaptionMode());
  // Caption mode's text size and full screen.
  /** @param {number} step */
  const resize = (step) => {
    const i = CAPTION_SCALES.indexOf(prefs.scale) + step;
    prefs.scale = CAPTION_SCALES[Math.max(0, Math.min(CAPTION_SCALES.length - 1, i))];
    save();
    applyPrefs();
    hooks.onCaptionMode();
  };
  $("text-smaller").addEventListener("click", () => resize(-1));
  $("text-larger").addEventListener("click", () => resize(1));
  const full = $("fullscreen");
  if (!document.fullscreenEnabled) full.hidden = true;
  full.addEventListener("click", () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", () => {
    full.setAttribute("aria-pressed", String(Boolean(document.fullscreenElement)));
    hooks.onCaptionMode();
  });

  // The phone's "More" menu.
  const menu = $("menu");
  /** @param {boolean} open */
  const setMenu = (open) => {
    menu.setAttribute("aria-expanded", String(open));
    /** @type {HTMLElement} */ (menu.parentElement).classList.toggle("open", open);
  };
  menu.addEventListener("click", () => setMenu(menu.getAttribute("aria-expanded") !== "true"));
  $("menu-list").addEventListener("click", (ev) => {
    if (/** @type {HTMLElement} */ (ev.target).closest("button")) setMenu(false);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && menu.getAttribute("aria-expanded") === "true") {
      setMenu(false);
      menu.focus();
    }
  });

  // The phone's bottom bar covers the page: the transcript ends above it, whatever it holds.
  const controls = /** @type {HTMLElement} */ (document.querySelector(".controls"));
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--bar-height", `${controls.offsetHeight + 8}px`);
  }).observe(controls);

  // Clear, with Undo until the next line or Start.
  const undo = $("undo");
  /** @type {(() => void)|null} */
  let restore = null;
  $("clear").addEventListener("click", () => {
    restore = hooks.clear();
    undo.hidden = false;
    $("undo-clear").focus();
  });
  $("undo-clear").addEventListener("click", () => {
    restore?.();
    restore = null;
    undo.hidden = true;
    $("transcript").focus();
  });

  // Possible languages, checked as typed.
  const langs = /** @type {HTMLInputElement} */ ($("languages"));
  langs.addEventListener("input", () => {
    const known = [...document.querySelectorAll("#language option")].map((o) =>
      /** @type {HTMLOptionElement} */ (o).value
    );
    const problem = languagesProblem(langs.value, known);
    if (problem) markInvalid(langs, problem, false);
    else clearInvalid(langs);
  });

  return {
    /**
     * Gives each banner a dismiss button (the phone shows only the first one).
     *
     * @param {HTMLElement} container
     */
    dismissible(container) {
      for (const banner of container.children) {
        const close = document.createElement("button");
        close.type = "button";
        close.className = "dismiss";
        close.setAttribute("aria-label", "Dismiss this notice");
        close.textContent = "×";
        close.addEventListener("click", () => banner.remove());
        banner.append(close);
      }
    },
    /** True while the reader wants keyboard shortcuts. */
    shortcuts: () => prefs.shortcuts,
    /** The transcript changed: an Undo of Clear is no longer offered. */
    forgetUndo() {
      restore = null;
      undo.hidden = true;
    },
    /**
     * The server refused the setting at `field`: open the panel, mark the field, focus it.
     *
     * @param {string} field
     * @param {string} text
     */
    invalid(field, text) {
      const id = controlForField(field);
      const el = id ? document.getElementById(id) : null;
      if (!el) return;
      /** @type {HTMLDetailsElement} */ ($("settings-panel")).open = true;
      if (el.closest("#advanced")) /** @type {HTMLDetailsElement} */ ($("advanced")).open = true;
      markInvalid(el, text, true);
    },
    /**
     * Moves focus to `to` when it was on `from` or nowhere (Start → Stop and back).
     *
     * @param {HTMLElement} from
     * @param {HTMLElement} to
     */
    moveFocus(from, to) {
      const a = document.activeElement;
      if (!a || a === from || a === document.body) to.focus();
    },
  };
}

/**
 * Marks a field invalid with its message (`aria-invalid`, `aria-describedby`); cleared when the
 * field changes.
 *
 * @param {HTMLElement} el
 * @param {string} text
 * @param {boolean} focus
 */
function markInvalid(el, text, focus) {
  const id = `${el.id}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "field-error";
    el.after(note);
    el.addEventListener("change", () => clearInvalid(el), { once: true });
  }
  note.textContent = text;
  el.setAttribute("aria-invalid", "true");
  el.setAttribute("aria-describedby", id);
  if (focus) el.focus();
}

/** @param {HTMLElement} el */
function clearInvalid(el) {
  el.removeAttribute("aria-invalid");
  el.removeAttribute("aria-describedby");
  document.getElementById(`${el.id}-error`)?.remove();
}

// @ts-check
/**
 * The page's reader parts: the phone's "More" menu, caption mode's bar (text size, full screen),
 * reading preferences, dismissible banners, Clear with Undo, the phone bar's height, `?debug`,
 * focus after Start/Stop, and a refused setting marked where it is.
 *
 * @module
 */

const PREFS_KEY = "hello-transcription.reader.v1";
/** Caption text sizes for A− / A+. */
export const CAPTION_SCALES = [0.75, 0.875, 1, 1.15, 1.3, 1.5];
// Request fields (`POST /api/session`) whose control has another id.
/** @type {Record<string, string>} */
const FIELD_IDS = {
  noiseReduction: "noise",
  noiseReductionStrength: "noiseStrength",
  turnDetection: "turn",
  "turnDetection.prefixPaddingMs": "prefixMs",
  "turnDetection.silenceDurationMs": "silenceMs",
};

/**
 * The settings control of a refused request field (`languages.0` → `languages`).
 *
 * @param {string} field the server's dotted path
 */
export function controlForField(field) {
  const [head, sub] = field.split(".");
  if (head === "turnDetection" && sub) return FIELD_IDS[`${head}.${sub}`] ?? sub;
  return FIELD_IDS[head] ?? head;
}

/**
 * What is wrong with a "possible languages" entry (comma-separated codes), or null.
 *
 * @param {string} value
 * @param {readonly string[]} known the codes the page offers
 */
export function languagesProblem(value, known) {
  const bad = value.split(",").map((c) => c.trim()).filter((c) => c && !known.includes(c));
  return bad.length
    ? `Not a language code: ${bad.join(", ")}. Use two-letter codes such as en, fr.`
    : null;
}

/**
 * Binds the reader parts (the ids in `index.html`).
 *
 * @param {(id: string) => HTMLElement} $
 * @param {{ onCaptionMode: () => void, clear: () => () => void }} hooks `onCaptionMode`: the
 *   layout of caption mode changed; `clear` empties the transcript and returns its Undo
 */
export function bindReader($, hooks) {
  const body = document.body;
  const root = document.documentElement.style;
  let prefs = { confidence: true, shortcuts: true, scale: 1 };
  try {
    prefs = { ...prefs, ...JSON.parse(localStorage.getItem(PREFS_KEY) ?? "{}") };
  } catch { /* storage unavailable */ }
  if (!CAPTION_SCALES.includes(prefs.scale)) prefs.scale = 1;
  const conf = /** @type {HTMLInputElement} */ ($("pref-confidence"));
  const keys = /** @type {HTMLInputElement} */ ($("pref-shortcuts"));
  const apply = () => {
    try {
      localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
    } catch { /* storage unavailable */ }
    body.dataset.confidence = prefs.confidence ? "on" : "off";
    conf.checked = prefs.confidence;
    keys.checked = prefs.shortcuts;
    root.setProperty("--caption-scale", String(prefs.scale));
  };
  conf.onchange = keys.onchange = () => {
    prefs.confidence = conf.checked;
    prefs.shortcuts = keys.checked;
    apply();
  };
  apply();
  // On a phone the transcript comes first; settings and the key list stay one tap away.
  if (matchMedia("(max-width: 800px)").matches) {
    for (const id of ["settings-panel", "keys-panel"]) {
      /** @type {HTMLDetailsElement} */ ($(id)).open = false;
    }
  }
  if (new URLSearchParams(location.search).has("debug")) {
    body.dataset.debug = "true";
    $("log-panel").hidden = false;
  }

  document.addEventListener("captionmode", hooks.onCaptionMode);
  /** @param {number} step */
  const resize = (step) => {
    const i = CAPTION_SCALES.indexOf(prefs.scale) + step;
    prefs.scale = CAPTION_SCALES[Math.max(0, Math.min(CAPTION_SCALES.length - 1, i))];
    apply();
    hooks.onCaptionMode();
  };
  $("text-smaller").onclick = () => resize(-1);
  $("text-larger").onclick = () => resize(1);
  const full = $("fullscreen");
  full.hidden = !document.fullscreenEnabled;
  full.onclick = () =>
    document.fullscreenElement
      ? document.exitFullscreen()
      : document.documentElement.requestFullscreen().catch(() => {});
  document.addEventListener("fullscreenchange", () => {
    full.setAttribute("aria-pressed", String(Boolean(document.fullscreenElement)));
    hooks.onCaptionMode();
  });

  const menu = $("menu");
  const setMenu = (/** @type {boolean} */ open) => {
    menu.setAttribute("aria-expanded", String(open));
    menu.parentElement?.classList.toggle("open", open);
  };
  menu.onclick = () => setMenu(menu.getAttribute("aria-expanded") !== "true");
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
  new ResizeObserver(() => root.setProperty("--bar-height", `${controls.offsetHeight + 8}px`))
    .observe(controls);

  const undo = $("undo");
  /** @type {(() => void)|null} */
  let restore = null;
  $("clear").onclick = () => {
    restore = hooks.clear();
    undo.hidden = false;
    $("undo-clear").focus();
  };
  $("undo-clear").onclick = () => {
    restore?.();
    undo.hidden = true;
    $("transcript").focus();
  };

  const langs = /** @type {HTMLInputElement} */ ($("languages"));
  langs.addEventListener("input", () => {
    const known = [.../** @type {HTMLSelectElement} */ ($("language")).options].map((o) => o.value);
    const problem = languagesProblem(langs.value.toLowerCase(), known);
    if (problem) markInvalid(langs, problem);
    else clearInvalid(langs);
  });

  return {
    /** Gives each banner a dismiss button (the phone shows the first only). @param {Element} c */
    dismissible(c) {
      for (const banner of c.children) {
        const x = document.createElement("button");
        x.className = "dismiss";
        x.setAttribute("aria-label", "Dismiss this notice");
        x.onclick = () => banner.remove();
        banner.append(x);
      }
    },
    /** True while the reader wants keyboard shortcuts. */
    shortcuts: () => prefs.shortcuts,
    /** A new session: Clear can no longer be undone. */
    forgetUndo: () => void (undo.hidden = true),
    /**
     * The server refused the setting at `field`: open the panel, mark the field, focus it.
     *
     * @param {string} field
     * @param {string} text
     */
    invalid(field, text) {
      const el = document.getElementById(controlForField(field));
      if (!el) return;
      /** @type {HTMLDetailsElement} */ ($("settings-panel")).open = true;
      if (el.closest("#advanced")) /** @type {HTMLDetailsElement} */ ($("advanced")).open = true;
      markInvalid(el, text);
      el.focus();
    },
    /** Moves focus to `to` when it was on `from` or nowhere. @param {HTMLElement} from @param {HTMLElement} to */
    moveFocus(from, to) {
      const a = document.activeElement;
      if (a && a !== from && a !== body) return;
      to.focus();
    },
  };
}

/**
 * Marks a field invalid with its message (`aria-invalid`, `aria-describedby`) until it changes.
 *
 * @param {HTMLElement} el
 * @param {string} text
 */
function markInvalid(el, text) {
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
}

/** @param {HTMLElement} el */
function clearInvalid(el) {
  el.removeAttribute("aria-invalid");
  el.removeAttribute("aria-describedby");
  document.getElementById(`${el.id}-error`)?.remove();
}

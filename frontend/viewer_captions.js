// @ts-check
/**
 * The viewer's caption mode, for a projector or a phone held at arm's length: only the newest
 * lines in large text, and a small floating bar (the status with its live/reconnecting dot, A−/A+
 * text size remembered in `localStorage`, fullscreen, exit). `?captions` in the share link opens
 * the viewer in this mode. Escape leaves it; there are no single-key shortcuts.
 *
 * @module
 */

/** Where the chosen caption text size is remembered. */
export const SCALE_KEY = "hello-transcription.viewer.captionScale";

/** The text sizes A−/A+ step through, as multiples of the default. */
export const SCALES = [0.6, 0.75, 0.9, 1, 1.15, 1.3, 1.5, 1.75, 2];

/** @returns {number} the index into {@linkcode SCALES} remembered, or the default's */
function rememberedStep() {
  let stored = null;
  try {
    stored = Number(localStorage.getItem(SCALE_KEY));
  } catch {
    // Storage can be off (private mode, blocked cookies): the default size then.
  }
  const i = SCALES.indexOf(stored ?? NaN);
  return i >= 0 ? i : SCALES.indexOf(1);
}

/**
 * Wires the caption-mode controls of `viewer.html`.
 *
 * @param {(id: string) => HTMLElement} $ looks an element up by id
 */
export function bindCaptionMode($) {
  const root = document.documentElement;
  const body = document.body;
  const toggle = /** @type {HTMLButtonElement} */ ($("captions"));
  const smaller = /** @type {HTMLButtonElement} */ ($("smaller"));
  const larger = /** @type {HTMLButtonElement} */ ($("larger"));
  const full = /** @type {HTMLButtonElement} */ ($("fullscreen"));
  const exit = /** @type {HTMLButtonElement} */ ($("exit-captions"));
  let step = rememberedStep();

  function showScale() {
    // CSSOM, not a style attribute: the Content-Security-Policy allows no inline styles.
    root.style.setProperty("--cap-scale", String(SCALES[step]));
    smaller.disabled = step === 0;
    larger.disabled = step === SCALES.length - 1;
  }

  /** @param {number} by */
  function resize(by) {
    step = Math.min(SCALES.length - 1, Math.max(0, step + by));
    try {
      localStorage.setItem(SCALE_KEY, String(SCALES[step]));
    } catch {
      // Not remembered, still applied.
    }
    showScale();
  }

  /** @param {boolean} on */
  function set(on) {
    body.classList.toggle("captions", on);
    toggle.setAttribute("aria-pressed", String(on));
    if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
    (on ? exit : toggle).focus();
  }

  toggle.addEventListener("click", () => set(true));
  exit.addEventListener("click", () => set(false));
  smaller.addEventListener("click", () => resize(-1));
  larger.addEventListener("click", () => resize(1));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && body.classList.contains("captions") && !document.fullscreenElement) {
      set(false);
    }
  });
  if (document.fullscreenEnabled) {
    full.hidden = false;
    full.addEventListener("click", () => {
      const change = document.fullscreenElement
        ? document.exitFullscreen()
        : root.requestFullscreen();
      change.catch(() => {});
    });
    document.addEventListener("fullscreenchange", () => {
      full.setAttribute("aria-pressed", String(document.fullscreenElement !== null));
    });
  }
  showScale();
  if (new URLSearchParams(location.search).has("captions")) {
    body.classList.add("captions");
    toggle.setAttribute("aria-pressed", "true");
  }
}

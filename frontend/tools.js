// @ts-check
/**
 * Small page tools: the microphone list, keyboard shortcuts, caption mode, a button held back for
 * a while (`Retry-After`).
 *
 * @module
 */

const MIC_KEY = "hello-transcription.mic";

/**
 * Fills the microphone picker (labels appear once permission was given) and remembers the choice.
 *
 * @param {HTMLSelectElement} select
 */
export async function refreshMics(select) {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    let chosen = select.value;
    try {
      chosen ||= localStorage.getItem(MIC_KEY) ?? "";
    } catch { /* storage unavailable */ }
    select.replaceChildren(new Option("Default microphone", ""));
    let n = 0;
    for (const d of devices) {
      if (d.kind !== "audioinput" || !d.deviceId || d.deviceId === "default") {
        continue;
      }
      select.append(new Option(d.label || `Microphone ${++n}`, d.deviceId));
    }
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  } catch { /* no mediaDevices (insecure context): the default stays */ }
}

/** @param {HTMLSelectElement} select */
export function rememberMic(select) {
  select.addEventListener("change", () => {
    try {
      localStorage.setItem(MIC_KEY, select.value);
    } catch { /* storage unavailable */ }
  });
}

/** Focused elements a shortcut never fires from: they have keys of their own. */
const CONTROLS =
  "button, summary, a[href], input, select, textarea, [contenteditable], [role=menu]";

/**
 * Which shortcut a key press means, or null. Letters need Alt+Shift (WCAG 2.1.4: no single
 * character keys, and clear of screen readers' browse-mode keys); Esc and Enter need none. None
 * fires while a control has focus (`onControl`), except Esc, which only leaves caption mode.
 *
 * @param {{ key: string, code?: string, altKey: boolean, shiftKey: boolean, ctrlKey: boolean,
 *   metaKey: boolean }} ev
 * @param {boolean} onControl focus is on a button, summary, link or field
 * @returns {string|null} `s`, `c`, `e`, `f`, `escape`, `enter`
 */
export function shortcutOf(ev, onControl) {
  if (ev.ctrlKey || ev.metaKey) return null;
  if (ev.key === "Escape" && !ev.altKey && !ev.shiftKey) return "escape";
  if (onControl) return null;
  if (ev.key === "Enter" && !ev.altKey && !ev.shiftKey) return "enter";
  // `code`, not `key`: Alt changes the character on some layouts (macOS Option).
  const m = /^Key([A-Z])$/.exec(ev.code ?? "");
  if (!m || !ev.altKey || !ev.shiftKey) return null;
  return m[1].toLowerCase();
}

/**
 * Binds the page's keyboard shortcuts (see {@linkcode shortcutOf}).
 *
 * @param {Record<string, (target: HTMLElement) => unknown>} actions by {@linkcode shortcutOf}'s name
 * @param {() => boolean} [enabled] false while the reader turned shortcuts off
 */
export function bindShortcuts(actions, enabled = () => true) {
  document.addEventListener("keydown", (ev) => {
    if (!enabled()) return;
    const t = /** @type {HTMLElement} */ (ev.target);
    const onControl = Boolean(t.closest?.(CONTROLS));
    // Esc in a field clears or closes it; it is the field's own key there.
    if (ev.key === "Escape" && t.closest?.("input, select, textarea")) return;
    const name = shortcutOf(ev, onControl);
    const run = name ? actions[name] : undefined;
    if (!run) return;
    ev.preventDefault();
    void run(t);
  });
}

/**
 * Keeps a button disabled for `seconds`, counting down in its label (`Start (5 s)`).
 *
 * @param {HTMLButtonElement} button
 * @param {number} seconds
 * @param {string} label the button's text when the wait is over
 * @param {() => boolean} busy true when the button must stay disabled once the wait is over
 */
export function holdButton(button, seconds, label, busy) {
  let left = Math.ceil(seconds);
  button.disabled = true;
  const tick = () => {
    if (left <= 0) {
      button.disabled = busy();
      button.textContent = label;
      return;
    }
    button.textContent = `${label} (${left--} s)`;
    setTimeout(tick, 1000);
  };
  tick();
}

/**
 * Turns caption mode (large high-contrast text) on or off; toggles when `on` is omitted.
 *
 * @param {HTMLElement} button the caption mode button; its `aria-pressed` follows
 * @param {boolean} [on]
 */
export function toggleCaptionMode(button, on = !document.body.classList.contains("captions")) {
  if (on === document.body.classList.contains("captions")) return;
  document.body.classList.toggle("captions", on);
  button.setAttribute("aria-pressed", String(on));
  // The transcript re-follows its newest line in the new layout (`reader.js`).
  document.dispatchEvent(new Event("captionmode"));
}

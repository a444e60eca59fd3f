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

/**
 * Binds single-key shortcuts (ignored while typing in a field or with modifier keys).
 *
 * @param {Record<string, (target: HTMLElement) => unknown>} actions by lower-case `KeyboardEvent.key`
 */
export function bindShortcuts(actions) {
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = /** @type {HTMLElement} */ (ev.target);
    if (t.closest("input, textarea, select, [contenteditable]")) return;
    const key = ev.key.toLowerCase();
    const run = actions[key];
    // Enter on a button, link or summary keeps its own meaning.
    if (!run || (key === "enter" && t.closest("button, summary, a"))) return;
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
  document.body.classList.toggle("captions", on);
  button.setAttribute("aria-pressed", String(on));
}

// @ts-check
/**
 * What only some visitors or moments need, loaded on first use with `import()` so that the first
 * load stays small: the translations (their modules and stylesheet) once translations are chosen
 * or a session has them, the transcript's restore only when the tab remembers a session, and
 * copy/export/share (`sharing.js` and the export formats) once there is a session or a press.
 *
 * @module
 */
import { remembered } from "./session_memory.js";

// The page's session memory, beside its on-demand restore.
export { clearWithUndo, rememberSession } from "./session_memory.js";

/** @typedef {import("./captions.js").CaptionView} CaptionView */

/** Adds the translations' stylesheet once. */
function loadStyle() {
  const href = new URL("./translations.css", import.meta.url).href;
  if ([...document.querySelectorAll("link")].some((l) => l.href === href)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

/**
 * The page's translations (`translations_view.js`), loaded the first time they are wanted: the
 * same `{ lines, calls }` as `bindTranslations`, with `want()` to load them ahead of Start.
 * Until then the lines draw straight through and a session without translations loads nothing.
 * The transcription never waits for the load: `calls.start` returns at once.
 *
 * @param {{ byId: (id: string) => HTMLElement, lines: CaptionView,
 *   timeline: import("./timeline.js").Timeline }} options
 */
export function lazyTranslations(options) {
  /** @type {Promise<ReturnType<typeof import("./translations_view.js").bindTranslations>>|null} */
  let ready = null;
  /** @type {ReturnType<typeof import("./translations_view.js").bindTranslations>|null} */
  let bound = null;
  const want = () => {
    ready ??= import("./translations_view.js").then((m) => {
      loadStyle();
      return bound = m.bindTranslations(options);
    });
    return ready;
  };
  /** @type {CaptionView} */
  const lines = {
    render: (u, facts) => (bound?.lines ?? options.lines).render(u, facts),
    order: (ordered) => (bound?.lines ?? options.lines).order(ordered),
    clear: () => (bound?.lines ?? options.lines).clear(),
  };
  const calls = {
    /** @param {{ session: { translations?: unknown[] } & Record<string, any>, stream: MediaStream }} p */
    start(p) {
      const some = Array.isArray(p.session.translations) && p.session.translations.length > 0;
      // Loaded already (an earlier session had translations): it clears its chips itself.
      if (some || ready) {
        void want().then((t) => t.calls.start(/** @type {any} */ (p))).catch(() => {});
      }
    },
    /** @param {number} at */
    baseAt(at) {
      void ready?.then((t) => t.calls.baseAt(at)).catch(() => {});
    },
    retry: (/** @type {string} */ language) => bound?.calls.retry(language),
    stop: () => ready ? ready.then((t) => t.calls.stop()) : Promise.resolve(),
  };
  return { lines, calls, want };
}

/**
 * Redraws the remembered session (`restore.js`), loading the module only when there is one.
 *
 * @param {Parameters<typeof import("./restore.js").restoreTranscript>[0]} deps
 * @returns {Promise<string|null>}
 */
export async function restoreIfRemembered(deps) {
  if (!remembered()) return null;
  return (await import("./restore.js")).restoreTranscript(deps);
}

/**
 * Binds the page's copy, export and share buttons; `sharing.js` loads on the first press, or once
 * the Share button turns on. Returns `copy` and `exportAs` for the shortcuts.
 *
 * @param {Parameters<typeof import("./sharing.js").sharingActions>[0] & { copyButton: HTMLElement,
 *   shareButton: HTMLElement, exportButtons: Iterable<Element> }} page `exportButtons` carry the
 *   format in `data-export`
 */
export function bindSharing(page) {
  /** @type {Promise<ReturnType<typeof import("./sharing.js").sharingActions>>|null} */
  let actions = null;
  const loaded = () => actions ??= import("./sharing.js").then((m) => m.sharingActions(page));
  const copy = () => loaded().then((a) => a.copy());
  const exportAs = (/** @type {string} */ kind) => loaded().then((a) => a.exportAs(kind));
  // Share turns on once there is a session (Start, or a redrawn one): a transcript to copy, so
  // load now and Copy acts at once. Before that, the first press loads it.
  const shareable = new MutationObserver(() => {
    if (/** @type {HTMLButtonElement} */ (page.shareButton).disabled) return;
    shareable.disconnect();
    void loaded().catch(() => {});
  });
  shareable.observe(page.shareButton, { attributes: true, attributeFilter: ["disabled"] });
  page.copyButton.addEventListener("click", () => void copy());
  page.shareButton.addEventListener("click", () => void loaded().then((a) => a.share()));
  for (const b of page.exportButtons) {
    b.addEventListener(
      "click",
      () => void exportAs(/** @type {HTMLElement} */ (b).dataset.export ?? ""),
    );
  }
  return { copy, exportAs };
}

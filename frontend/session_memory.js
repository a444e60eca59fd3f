// @ts-check
/**
 * The tab remembers its newest session id (sessionStorage) so that a reload can redraw it
 * (`restore.js`); Clear forgets it and offers Undo.
 *
 * @module
 */

const KEY = "hello-transcription.current-session";
/** @param {string|null} id the session to remember; null forgets it */
export function rememberSession(id) {
  try {
    if (id) sessionStorage.setItem(KEY, id);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage unavailable */ }
}

/** The remembered session id, if any. @returns {string|null} */
export function remembered() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/**
 * Clear: empties the transcript and forgets the session; returns the Undo.
 *
 * @param {import("./timeline.js").Timeline} timeline
 * @param {import("./captions.js").CaptionView} view
 */
export function clearWithUndo(timeline, view) {
  const before = timeline.shown().filter((u) => u.status === "final");
  const id = remembered();
  timeline.clear();
  view.clear();
  rememberSession(null);
  return () => {
    rememberSession(id);
    timeline.archived = [...before, ...timeline.archived];
    view.clear();
    for (const u of timeline.all()) view.render(u);
  };
}

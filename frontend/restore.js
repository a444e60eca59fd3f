// @ts-check
/**
 * The transcript survives a reload: the tab remembers its newest session id (sessionStorage) and
 * redraws that session from the server's record (`GET /api/sessions/:id`). Also Clear's Undo.
 *
 * @module
 */
import { orderUtterances } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";

const KEY = "hello-transcription.current-session";
/** @param {string|null} id the session to remember; null forgets it */
export function rememberSession(id) {
  try {
    if (id) sessionStorage.setItem(KEY, id);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage unavailable */ }
}
const remembered = () => {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
};

/**
 * Draws the remembered session's final lines as the timeline's archive.
 *
 * @param {{ fetchJson: (url: string) => Promise<any>, timeline: import("./timeline.js").Timeline,
 *   view: import("./captions.js").CaptionView }} deps
 * @returns {Promise<string|null>} the session id when lines came back
 */
export async function restoreTranscript({ fetchJson, timeline, view }) {
  const id = remembered();
  const detail = id && await fetchJson(`/api/sessions/${encodeURIComponent(id)}`).catch(() => null);
  const lines = orderUtterances((detail?.utterances ?? []).map(utteranceFromRow))
    .filter((u) => u.status === "final" && u.text);
  if (!lines.length) return null;
  timeline.archived = lines;
  timeline.offsetMs = Math.max(...lines.map((u) => u.endMs ?? u.startMs ?? 0)) + 1000;
  for (const u of lines) view.render(u);
  return id;
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

// @ts-check
/**
 * The current transcript survives a reload: the page remembers the id of its newest session for
 * this tab (sessionStorage) and, on load, draws that session's lines from the server's record
 * (`GET /api/sessions/:id`, the same record the share link reads).
 *
 * @module
 */
import { orderUtterances } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";

const KEY = "hello-transcription.current-session";

/** Remembers the newest session of this tab. @param {string} sessionId */
export function rememberSession(sessionId) {
  try {
    sessionStorage.setItem(KEY, sessionId);
  } catch { /* storage unavailable: nothing survives a reload */ }
}

/** Forgets it (Clear). */
export function forgetSession() {
  try {
    sessionStorage.removeItem(KEY);
  } catch { /* storage unavailable */ }
}

/**
 * Draws the remembered session's stored lines as the archive of `timeline`.
 *
 * @param {{ fetchJson: (url: string) => Promise<any>, timeline: import("./timeline.js").Timeline,
 *   view: import("./captions.js").CaptionView }} deps
 * @returns {Promise<string|null>} the session id when lines were restored
 */
export async function restoreTranscript({ fetchJson, timeline, view }) {
  let id = null;
  try {
    id = sessionStorage.getItem(KEY);
  } catch { /* storage unavailable */ }
  if (!id) return null;
  const detail = await fetchJson(`/api/sessions/${encodeURIComponent(id)}`).catch(() => null);
  const rows = Array.isArray(detail?.utterances) ? detail.utterances : [];
  const lines = orderUtterances(rows.map(utteranceFromRow))
    .filter((u) => u.status === "final" && u.text);
  if (!lines.length) return null;
  timeline.archived = lines;
  const ends = lines.map((u) => u.endMs ?? u.startMs ?? 0);
  timeline.offsetMs = Math.max(...ends) + 1000;
  for (const u of lines) view.render(u);
  return id;
}

/**
 * Clear: empties the transcript (and forgets the session for reloads); returns the Undo.
 *
 * @param {import("./timeline.js").Timeline} timeline
 * @param {import("./captions.js").CaptionView} view
 * @returns {() => void}
 */
export function clearWithUndo(timeline, view) {
  const before = timeline.shown().filter((u) => u.status === "final");
  let id = null;
  try {
    id = sessionStorage.getItem(KEY);
  } catch { /* storage unavailable */ }
  timeline.clear();
  view.clear();
  forgetSession();
  return () => {
    if (id) rememberSession(id);
    timeline.archived = [...before, ...timeline.archived];
    view.clear();
    for (const u of timeline.all()) view.render(u);
  };
}

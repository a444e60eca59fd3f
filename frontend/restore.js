// @ts-check
/**
 * The transcript survives a reload: the tab's newest session (`session_memory.js`) is redrawn
 * from the server's record (`GET /api/sessions/:id`). Loaded only when there is one to redraw.
 *
 * @module
 */
import { orderUtterances } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";
import { remembered } from "./session_memory.js";

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

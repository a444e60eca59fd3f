// @ts-check
/**
 * Translated lines from translation deltas, shared by the page, the share viewer and the server
 * (exports). A translation call is a continuous interpreter: it sends append-only text deltas,
 * each stamped with `elapsed_ms` (the call's audio clock), and knows nothing of the transcription
 * call's utterances. So each delta goes under the caption line it was heard in: the line the page
 * placed it under when it posted it (`itemId`, when that line exists), else by time:
 *
 * - a delta belongs to the latest utterance that started at or before its time (`atMs`, the
 *   session clock), or the first utterance when it is earlier than all of them;
 * - a delta later than the last utterance's end plus `slackMs` (the translation's lag) is not yet
 *   any line's: it belongs to speech whose caption has not arrived, and is "pending" (shown as a
 *   streaming line until its utterance appears).
 *
 * A line's translation is its deltas concatenated in order and trimmed. Plain ES module.
 *
 * @module
 */

/**
 * One delta (as stored, or as the page holds it).
 *
 * @typedef {{ language: string, text: string, atMs: number, kind?: "output"|"input",
 *   eventId?: string, itemId?: string|null }} TranslationDelta
 */

/** @typedef {{ itemId: string, startMs: number|null, endMs: number|null }} TimedLine */

/** How long after a line's end its translation may still arrive, ms (the translation's lag). */
export const ALIGN_SLACK_MS = 3000;

/**
 * Aligns deltas with lines.
 *
 * @param {Iterable<TimedLine>} lines the caption lines (any order; ones without a start are skipped)
 * @param {Iterable<TranslationDelta>} deltas in arrival order; `kind: "input"` ones are skipped
 * @param {{ slackMs?: number }} [options]
 * @returns {{ byLine: Map<string, Map<string, string>>, pending: Map<string, string> }}
 *   translation text per line id and language; text per language not yet under a line
 */
export function alignTranslations(lines, deltas, options = {}) {
  /** @type {Map<string, Map<string, string>>} */
  const byLine = new Map();
  /** @type {Map<string, string>} */
  const pending = new Map();
  const list = [...deltas].filter((d) => d && d.kind !== "input" && finite(d.atMs));
  const places = placeDeltas(lines, list, options);
  const ordered = list.map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.atMs - b.d.atMs || a.i - b.i);
  for (const { d, i } of ordered) {
    const itemId = places[i];
    if (itemId === null) {
      pending.set(d.language, (pending.get(d.language) ?? "") + d.text);
      continue;
    }
    let langs = byLine.get(itemId);
    if (!langs) byLine.set(itemId, langs = new Map());
    langs.set(d.language, (langs.get(d.language) ?? "") + d.text);
  }
  for (const langs of byLine.values()) {
    for (const [lang, text] of langs) langs.set(lang, text.trim());
  }
  for (const [lang, text] of pending) pending.set(lang, text.trim());
  return { byLine, pending };
}

/**
 * The line each delta belongs to (null: pending), by the rules in the module doc.
 *
 * @param {Iterable<TimedLine>} lines
 * @param {TranslationDelta[]} deltas
 * @param {{ slackMs?: number }} [options]
 * @returns {(string|null)[]} one line id (or null) per delta
 */
export function placeDeltas(lines, deltas, options = {}) {
  const slack = options.slackMs ?? ALIGN_SLACK_MS;
  const all = [...lines];
  const ids = new Set(all.map((l) => l.itemId));
  const timed = all.filter((l) => finite(l.startMs))
    .sort((a, b) => /** @type {number} */ (a.startMs) - /** @type {number} */ (b.startMs));
  return deltas.map((d) => {
    if (d.itemId && ids.has(d.itemId)) return d.itemId;
    return finite(d.atMs) ? lineAt(timed, d.atMs, slack)?.itemId ?? null : null;
  });
}

/**
 * @param {TimedLine[]} timed sorted by start
 * @param {number} atMs
 * @param {number} slack
 * @returns {TimedLine|null}
 */
function lineAt(timed, atMs, slack) {
  if (timed.length === 0) return null;
  let found = timed[0];
  let index = 0;
  for (let i = 0; i < timed.length; i++) {
    if (/** @type {number} */ (timed[i].startMs) <= atMs) {
      found = timed[i];
      index = i;
    } else break;
  }
  const last = index === timed.length - 1;
  const end = found.endMs;
  if (last && finite(end) && atMs > end + slack) return null;
  return found;
}

/**
 * The lines of one language: each utterance with its text replaced by its translation (lines
 * without one are left out), ready for the export formats.
 *
 * @template {TimedLine & { text: string }} U
 * @param {U[]} utterances
 * @param {Map<string, Map<string, string>>} byLine from {@linkcode alignTranslations}
 * @param {string} language
 * @returns {U[]}
 */
export function translatedUtterances(utterances, byLine, language) {
  /** @type {U[]} */
  const out = [];
  for (const u of utterances) {
    const text = byLine.get(u.itemId)?.get(language);
    if (text) out.push({ ...u, text });
  }
  return out;
}

/**
 * @param {unknown} v
 * @returns {v is number}
 */
function finite(v) {
  return typeof v === "number" && Number.isFinite(v);
}

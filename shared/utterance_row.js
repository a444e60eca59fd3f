// @ts-check
/**
 * A stored utterance row (the Store's `listUtterances`, `GET /api/sessions/:id` → `utterances`)
 * as the transcript fold's {@linkcode Utterance}: the share viewer starts its fold from these
 * rows, and the server's exports render them. Plain ES module, so both sides map rows the same way.
 *
 * @module
 */

/** @typedef {import("./transcript.js").Utterance} Utterance */

/**
 * The fields a stored row carries (extra fields are ignored).
 *
 * @typedef {{
 *   itemId: string,
 *   previousItemId: string|null,
 *   status: Utterance["status"],
 *   text: string,
 *   startMs: number|null,
 *   endMs: number|null,
 *   confidence: number|null,
 *   error: string|null,
 *   languages?: string[]|null,
 * }} UtteranceRowLike
 */

/**
 * The utterance of one stored row: `committed` (the Store only keeps committed items) and no delta
 * ids (a fold that continues from it applies only later events, e.g. the viewer's `?after=`).
 *
 * @example
 * ```js
 * const utterances = detail.utterances.map(utteranceFromRow);
 * ```
 * @param {UtteranceRowLike} row
 * @returns {Utterance}
 */
export function utteranceFromRow(row) {
  return {
    itemId: row.itemId,
    previousItemId: row.previousItemId,
    status: row.status,
    text: row.text,
    startMs: row.startMs,
    endMs: row.endMs,
    confidence: row.confidence,
    error: row.error,
    languages: row.languages ?? null,
    committed: true,
  };
}

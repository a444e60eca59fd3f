/**
 * Translated text in the SQL store: every delta a translation call sent, as the page posted it
 * (`POST /api/sessions/:id/translations`), idempotent by `(session, language, event id)` and
 * bounded per session. Lines are built from them by `shared/translations.js`.
 *
 * @module
 */
import type { SqlRunners } from "./sql_maintenance.ts";
import type { NewTranslationDelta, TranslationDeltaRow } from "./types.ts";

/**
 * Inserts a batch of deltas (duplicates are ignored) unless the session would then hold more than
 * `cap`. Null: refused, nothing written.
 */
export async function insertTranslationDeltas(
  db: SqlRunners,
  sessionId: string,
  deltas: readonly NewTranslationDelta[],
  opts: { cap: number; now: number },
): Promise<{ added: number; duplicates: number } | null> {
  const have = await db.exec(
    "SELECT COUNT(*) AS n FROM translation_deltas WHERE session_id = ?",
    [sessionId],
  );
  if (Number(have.rows[0]?.n ?? 0) + deltas.length > opts.cap) return null;
  const results = await db.run(deltas.map((d) => ({
    sql: `INSERT OR IGNORE INTO translation_deltas
      (session_id, language, event_id, kind, text, elapsed_ms, at_ms, item_id, call_id, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      sessionId,
      d.language,
      d.eventId,
      d.kind,
      d.text,
      d.elapsedMs,
      d.atMs ?? d.elapsedMs,
      d.itemId ?? null,
      d.callId ?? null,
      opts.now,
    ],
  })));
  const added = results.reduce((n, r) => n + r.rowsAffected, 0);
  return { added, duplicates: deltas.length - added };
}

/** The session's deltas with `seq > afterSeq`, in the order they were stored. */
export async function listTranslationDeltas(
  db: SqlRunners,
  sessionId: string,
  opts: { afterSeq?: number; limit?: number } = {},
): Promise<TranslationDeltaRow[]> {
  const r = await db.exec(
    `SELECT * FROM translation_deltas WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    [sessionId, opts.afterSeq ?? 0, Math.max(1, Math.min(opts.limit ?? 50_000, 50_000))],
  );
  return r.rows.map((row) => ({
    seq: Number(row.seq),
    language: String(row.language),
    eventId: String(row.event_id),
    kind: String(row.kind) === "input" ? "input" : "output",
    text: String(row.text),
    elapsedMs: Number(row.elapsed_ms),
    atMs: Number(row.at_ms),
    itemId: row.item_id === null || row.item_id === undefined ? null : String(row.item_id),
    callId: row.call_id === null || row.call_id === undefined ? null : String(row.call_id),
    receivedAt: Number(row.received_at),
  }));
}

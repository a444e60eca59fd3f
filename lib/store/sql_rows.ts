/**
 * Row mapping and statement builders for the SQL store: plain functions with no I/O.
 *
 * @module
 */
import type { Utterance } from "../../shared/transcript.js";
import type { SqlStatement } from "./sql_store.ts";
import type { CallRow, EventRow, SessionRow, SessionStatus, UtteranceRow } from "./types.ts";

/** Which side saw an utterance's final text. */
export type Seen = UtteranceRow["seenBy"];

/**
 * An upsert of one utterance that applies only while its `version` is still `expected`
 * (compare-and-swap), and only if the session exists.
 */
export function writeUtteranceStmt(
  sessionId: string,
  u: Utterance,
  seenBy: Seen,
  expected: number,
  now: number,
  budget?: { key: string; windowMs: number; windowStart: number; maxBytes: number },
): SqlStatement {
  // With a budget, the write happens only while the session's written bytes (a counter) plus
  // this row's state and text stay within it: checked in the writing statement itself, so parallel writes
  // cannot overshoot.
  const within = budget
    ? ` AND COALESCE((SELECT count FROM counters WHERE key = ? AND window_ms = ?
        AND window_start = ?), 0) + LENGTH(?) + LENGTH(?) <= ?`
    : "";
  const state = JSON.stringify(u);
  const budgetArgs = budget
    ? [budget.key, budget.windowMs, budget.windowStart, state, u.text, budget.maxBytes]
    : [];
  return {
    sql: `INSERT INTO utterances (session_id, item_id, previous_item_id, status, text, start_ms,
        end_ms, confidence, error, seen_by, state, version, updated_at)
      SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)
        ${within}
      ON CONFLICT (session_id, item_id) DO UPDATE SET previous_item_id = excluded.previous_item_id,
        status = excluded.status, text = excluded.text, start_ms = excluded.start_ms,
        end_ms = excluded.end_ms, confidence = excluded.confidence, error = excluded.error,
        seen_by = excluded.seen_by, state = excluded.state, version = excluded.version,
        updated_at = excluded.updated_at
      WHERE utterances.version = ?`,
    args: [
      sessionId,
      u.itemId,
      u.previousItemId,
      u.status,
      u.text,
      u.startMs,
      u.endMs,
      u.confidence,
      u.error,
      seenBy,
      state,
      expected + 1,
      now,
      sessionId,
      ...budgetArgs,
      expected,
    ],
  };
}

/**
 * Inserts one event with the next `seq` of its session, only if the session exists, the event id
 * is new, and the utterance it concerns is still at version `expected` (compare-and-swap).
 */
export function insertEventStmt(
  row: Omit<EventRow, "seq">,
  itemId: string | null,
  expected: number,
): SqlStatement {
  const { sessionId } = row;
  return {
    sql: `INSERT OR IGNORE INTO events (session_id, seq, event_id, type, event, received_at,
        call_id)
      SELECT ?, COALESCE((SELECT MAX(seq) FROM events WHERE session_id = ?), 0) + 1, ?, ?, ?, ?, ?
      WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)
        AND COALESCE((SELECT version FROM utterances WHERE session_id = ? AND item_id = ?), 0) = ?`,
    args: [
      sessionId,
      sessionId,
      row.eventId,
      row.type,
      JSON.stringify(row.event),
      row.receivedAt,
      row.callId,
      sessionId,
      sessionId,
      itemId ?? "",
      expected,
    ],
  };
}

/**
 * Records that `callId` is bound to the session at `now`, once (the first binding wins). Its
 * offset is the time since the session's first call was bound (0 when this is the first; never
 * negative, should another process's clock lag).
 */
export function bindCallStmt(sessionId: string, callId: string, now: number): SqlStatement {
  return {
    sql: `INSERT OR IGNORE INTO session_calls (session_id, call_id, attached_at, offset_ms)
      SELECT ?, ?, ?, MAX(0, ? - COALESCE(
        (SELECT MIN(attached_at) FROM session_calls WHERE session_id = ?), ?))
      WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)`,
    args: [sessionId, callId, now, now, sessionId, now, sessionId],
  };
}

/** Maps a `session_calls` row. */
export function toCall(row: Record<string, unknown>): CallRow {
  return {
    sessionId: String(row.session_id),
    callId: String(row.call_id),
    attachedAt: Number(row.attached_at),
    offsetMs: Number(row.offset_ms),
  };
}

/** Maps a `sessions` row. */
export function toSession(row: Record<string, unknown>): SessionRow {
  let settings: Record<string, unknown> = {};
  try {
    settings = JSON.parse(String(row.settings ?? "{}"));
  } catch {
    // A hand-edited row: show no settings rather than fail the whole list.
  }
  return {
    id: String(row.id),
    callId: str(row.call_id),
    source: String(row.source) as SessionRow["source"],
    status: String(row.status) as SessionStatus,
    model: String(row.model),
    settings,
    caller: str(row.caller),
    createdAt: Number(row.created_at),
    startedAt: num(row.started_at),
    endedAt: num(row.ended_at),
    endReason: str(row.end_reason),
  };
}

/** Maps an `events` row. */
export function toEvent(row: Record<string, unknown>): EventRow {
  return {
    sessionId: String(row.session_id),
    seq: Number(row.seq),
    eventId: String(row.event_id),
    type: String(row.type),
    event: JSON.parse(String(row.event)),
    receivedAt: Number(row.received_at),
    callId: str(row.call_id),
  };
}

/** Maps a folded utterance to the port's row shape (`pending` shows as an empty `partial`). */
export function toUtteranceRow(
  sessionId: string,
  u: Utterance,
  seenBy: Seen,
  updatedAt: number,
): UtteranceRow {
  return {
    sessionId,
    itemId: u.itemId,
    previousItemId: u.previousItemId,
    status: u.status === "pending" ? "partial" : u.status,
    text: u.text,
    startMs: u.startMs,
    endMs: u.endMs,
    confidence: u.confidence,
    error: u.error,
    languages: u.languages,
    seenBy,
    updatedAt,
  };
}

/** The opaque paging cursor after `s` (newest-first order). */
export function encodeCursor(s: Pick<SessionRow, "createdAt" | "id">): string {
  return new TextEncoder().encode(`${s.createdAt}.${s.id}`)
    .toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Decodes a cursor from {@linkcode encodeCursor}; null for none or a malformed one. */
export function decodeCursor(
  cursor: string | null | undefined,
): { createdAt: number; id: string } | null {
  if (!cursor || cursor.length > 200) return null;
  try {
    const text = new TextDecoder().decode(
      Uint8Array.fromBase64(cursor, { alphabet: "base64url" }),
    );
    const m = /^(\d{1,16})\.([A-Za-z0-9_-]{1,64})$/.exec(text);
    return m ? { createdAt: Number(m[1]), id: m[2] } : null;
  } catch {
    return null;
  }
}

/** True for SQLite lock contention errors worth retrying. */
export function isBusy(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  } | null;
  const text = `${e?.code ?? ""} ${e?.cause?.code ?? ""} ${e?.message ?? ""}`;
  return /SQLITE_BUSY|SQLITE_LOCKED|database is locked/i.test(text);
}

/** A deterministic id for an event without `event_id` (so replays still deduplicate). */
export async function syntheticEventId(
  event: Record<string, unknown>,
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify(event)),
  );
  return "synthetic_" +
    new Uint8Array(digest).slice(0, 16).toBase64({ alphabet: "base64url" });
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

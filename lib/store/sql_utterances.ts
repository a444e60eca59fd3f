/**
 * Reading utterances for a compare-and-swap fold, and the browser's gap repair. Every write is
 * guarded by the utterance's `version` (see `writeUtteranceStmt`), so concurrent writers retry
 * instead of overwriting each other.
 *
 * @module
 */
import type { Utterance } from "../../shared/transcript.js";
import type { SqlRunners } from "./sql_maintenance.ts";
import { type Seen, writeUtteranceStmt } from "./sql_rows.ts";
import type { Store } from "./types.ts";

/** An utterance as stored: the reducer's state plus the CAS version. */
export interface StoredUtterance {
  state: Utterance;
  version: number;
  seenBy: Seen;
  updatedAt: number;
}

function stored(row: Record<string, unknown>): StoredUtterance | null {
  if (row.state === null || row.state === undefined) return null;
  return {
    state: JSON.parse(String(row.state)) as Utterance,
    version: Number(row.version),
    seenBy: String(row.seen_by) as Seen,
    updatedAt: Number(row.updated_at),
  };
}

/**
 * One round trip: whether the event is already stored, the utterance it concerns, and the offset
 * of the call it came from (0 for no call or one the session was never bound to).
 */
export async function readForEvent(
  exec: SqlRunners["exec"],
  sessionId: string,
  eventId: string,
  itemId: string,
  callId: string | null = null,
): Promise<{ duplicate: boolean; utterance: StoredUtterance | null; offsetMs: number }> {
  const r = await exec(
    `SELECT EXISTS (SELECT 1 FROM events WHERE session_id = ? AND event_id = ?) AS dup,
       (SELECT offset_ms FROM session_calls WHERE session_id = ? AND call_id = ?) AS offset_ms,
       u.state, u.version, u.seen_by, u.updated_at
     FROM (SELECT 1) AS one
     LEFT JOIN utterances AS u ON u.session_id = ? AND u.item_id = ?`,
    [sessionId, eventId, sessionId, callId, sessionId, itemId],
  );
  const row = r.rows[0] ?? {};
  return {
    duplicate: Number(row.dup) === 1,
    utterance: stored(row),
    offsetMs: Number(row.offset_ms ?? 0) || 0,
  };
}

/** The stored utterance of an item, or null. */
export async function readUtterance(
  exec: SqlRunners["exec"],
  sessionId: string,
  itemId: string,
): Promise<StoredUtterance | null> {
  const r = await exec(
    `SELECT state, version, seen_by, updated_at FROM utterances
      WHERE session_id = ? AND item_id = ?`,
    [sessionId, itemId],
  );
  return r.rows[0] ? stored(r.rows[0]) : null;
}

/**
 * Gap repair (see {@linkcode Store.mergeBrowserUtterances}): a final the server has becomes
 * `both` (taking the page's times where the server has none: turns the page committed); one it
 * lacks (or only has partially) is stored final with `seenBy: "browser"`.
 * Failed items and ones already merged are left alone, so posting twice changes nothing.
 */
export async function mergeBrowserUtterances(
  db: SqlRunners & { clock: () => number },
  sessionId: string,
  utterances: Parameters<Store["mergeBrowserUtterances"]>[1],
  options: MergeOptions = {},
): Promise<MergeResult> {
  let added = 0;
  let confirmed = 0;
  let bytes = 0;
  let refused = 0;
  const exists = await db.exec("SELECT 1 AS ok FROM sessions WHERE id = ?", [
    sessionId,
  ]);
  if (exists.rows.length === 0) return { added, confirmed };
  // The bytes the page wrote to this session, in a counter as long-lived as a session's rows.
  const key = `browser-bytes:${sessionId}`;
  const windowStart = 0;
  const budget = options.maxBytes === undefined
    ? undefined
    : { key, windowMs: BYTES_WINDOW_MS, windowStart, maxBytes: options.maxBytes };
  for (const [index, b] of utterances.entries()) {
    if (refused > 0) {
      // The budget is spent: the page writes no more to this session, whatever the sizes.
      refused = utterances.length - index + refused;
      break;
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await readUtterance(db.exec, sessionId, b.itemId);
      if (cur?.state.status === "failed" || cur?.seenBy === "both") break;
      let next: Utterance;
      let seenBy: Seen;
      if (cur?.state.status === "final") {
        if (cur.seenBy !== "server") break;
        // A turn the page committed has no server speech events: its times come from the page.
        next = {
          ...cur.state,
          startMs: cur.state.startMs ?? b.startMs,
          endMs: cur.state.endMs ?? b.endMs,
        };
        seenBy = "both";
      } else {
        const base = cur?.state;
        next = {
          itemId: b.itemId,
          previousItemId: base?.committed ? base.previousItemId : b.previousItemId,
          status: "final",
          text: b.text,
          startMs: base?.startMs ?? b.startMs,
          endMs: base?.endMs ?? b.endMs,
          confidence: b.confidence,
          error: null,
          languages: base?.languages ?? null,
          committed: base?.committed || b.previousItemId !== null,
        };
        seenBy = "browser";
      }
      const expected = cur?.version ?? 0;
      const now = db.clock();
      // What the row stores: its state and its text (the same measure as the budget's check).
      const size = JSON.stringify(next).length + next.text.length;
      const stmts = [writeUtteranceStmt(sessionId, next, seenBy, expected, now, budget)];
      if (budget) {
        // Counted in the same batch, only when this very write happened (its new version).
        stmts.push({
          sql: `INSERT INTO counters (key, window_ms, window_start, count)
            SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM utterances WHERE session_id = ?
              AND item_id = ? AND version = ? AND updated_at = ?)
            ON CONFLICT (key, window_ms, window_start) DO UPDATE SET count = count + excluded.count`,
          args: [
            key,
            BYTES_WINDOW_MS,
            windowStart,
            size,
            sessionId,
            next.itemId,
            expected + 1,
            now,
          ],
        });
      }
      const [result] = await db.run(stmts);
      if (result.rowsAffected === 1) {
        if (seenBy === "both") confirmed++;
        else added++;
        bytes += size;
        break;
      }
      // Not written: a lost race (retry), or the budget is spent (stop).
      if (budget && !(await readUtteranceChanged(db.exec, sessionId, next.itemId, expected))) {
        refused++;
        break;
      }
    }
  }
  return budget ? { added, confirmed, bytes, refused } : { added, confirmed };
}

/** A window no counter prune reaches while the session's rows exist (rows go with retention). */
const BYTES_WINDOW_MS = 2 ** 50;

/** True when the utterance moved past version `expected` (another writer won the race). */
async function readUtteranceChanged(
  exec: SqlRunners["exec"],
  sessionId: string,
  itemId: string,
  expected: number,
): Promise<boolean> {
  const cur = await readUtterance(exec, sessionId, itemId);
  return (cur?.version ?? 0) !== expected;
}

/** Options for {@linkcode mergeBrowserUtterances}. */
export interface MergeOptions {
  /** Most bytes (utterance states) the page may write to this session in all. */
  maxBytes?: number;
}

/** What {@linkcode mergeBrowserUtterances} did. */
export interface MergeResult {
  added: number;
  confirmed: number;
  /** With `maxBytes`: bytes written (utterance state and text). */
  bytes?: number;
  /** With `maxBytes`: utterances not written because the session's byte budget is spent. */
  refused?: number;
}

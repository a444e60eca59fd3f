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
): Promise<{ added: number; confirmed: number }> {
  let added = 0;
  let confirmed = 0;
  const exists = await db.exec("SELECT 1 AS ok FROM sessions WHERE id = ?", [
    sessionId,
  ]);
  if (exists.rows.length === 0) return { added, confirmed };
  for (const b of utterances) {
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
      const [result] = await db.run([
        writeUtteranceStmt(sessionId, next, seenBy, expected, db.clock()),
      ]);
      if (result.rowsAffected === 1) {
        if (seenBy === "both") confirmed++;
        else added++;
        break;
      }
    }
  }
  return { added, confirmed };
}

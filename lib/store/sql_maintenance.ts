/**
 * The SQL store's housekeeping: deleting sessions with their data, retention, and the
 * fixed-window counters. Plain functions over the store's retrying `exec`/`run`.
 *
 * @module
 */
import type { SqlResult, SqlStatement } from "./sql_store.ts";
import type { MintTally, MintTallyInput } from "./types.ts";

/** The store's statement runners (with `SQLITE_BUSY` retry). */
export interface SqlRunners {
  exec(sql: string, args?: unknown[]): Promise<SqlResult>;
  /** Runs statements atomically. */
  run(stmts: SqlStatement[]): Promise<SqlResult[]>;
}

const DAY_MS = 86_400_000;

/** Deletes sessions with their utterances, events and calls; returns how many sessions went. */
export async function deleteSessions(
  db: SqlRunners,
  ids: string[],
): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const marks = chunk.map(() => "?").join(", ");
    const results = await db.run([
      { sql: `DELETE FROM events WHERE session_id IN (${marks})`, args: chunk },
      {
        sql: `DELETE FROM utterances WHERE session_id IN (${marks})`,
        args: chunk,
      },
      { sql: `DELETE FROM session_calls WHERE session_id IN (${marks})`, args: chunk },
      { sql: `DELETE FROM translation_deltas WHERE session_id IN (${marks})`, args: chunk },
      { sql: `DELETE FROM sessions WHERE id IN (${marks})`, args: chunk },
    ]);
    deleted += results[4].rowsAffected;
  }
  return deleted;
}

/**
 * Retention: ended (or failed) sessions older than `maxAgeMs` or beyond the newest `maxCount`,
 * and abandoned ones (never ended) a day past the age limit (at least two days old).
 */
export async function pruneSessions(
  db: SqlRunners,
  opts: { maxAgeMs?: number; maxCount?: number; now: number },
): Promise<number> {
  const { maxAgeMs, maxCount, now } = opts;
  const ids = new Set<string>();
  if (maxAgeMs !== undefined) {
    const r = await db.exec(
      `SELECT id FROM sessions WHERE created_at < ?
         AND (status IN ('ended', 'failed') OR created_at < ?)`,
      [now - maxAgeMs, now - Math.max(maxAgeMs, DAY_MS) - DAY_MS],
    );
    for (const row of r.rows) ids.add(String(row.id));
  }
  if (maxCount !== undefined) {
    const r = await db.exec(
      `SELECT id FROM sessions WHERE status IN ('ended', 'failed') AND id NOT IN
         (SELECT id FROM sessions ORDER BY created_at DESC, id DESC LIMIT ?)`,
      [Math.max(0, maxCount)],
    );
    for (const row of r.rows) ids.add(String(row.id));
  }
  return await deleteSessions(db, [...ids]);
}

/** Deletes counter windows older than the previous one. */
export async function pruneCounters(
  db: SqlRunners,
  now: number,
): Promise<void> {
  await db.exec(
    "DELETE FROM counters WHERE window_start + 2 * window_ms <= ?",
    [now],
  );
}

/** Adds `amount` to the window of `key` containing `now`; returns the new total. */
export async function incrementCounter(
  db: SqlRunners,
  opts: { key: string; windowMs: number; amount: number; now: number },
): Promise<number> {
  const { key, windowMs, amount } = opts;
  const start = Math.floor(opts.now / windowMs) * windowMs;
  const results = await db.run([
    {
      sql: `INSERT INTO counters (key, window_ms, window_start, count)
        VALUES (?, ?, ?, ?) ON CONFLICT (key, window_ms, window_start)
        DO UPDATE SET count = count + excluded.count`,
      args: [key, windowMs, start, amount],
    },
    {
      sql: `SELECT count FROM counters
        WHERE key = ? AND window_ms = ? AND window_start = ?`,
      args: [key, windowMs, start],
    },
  ]);
  return Number(results[1].rows[0]?.count ?? amount);
}

/** The total of the window of `key` containing `now` (0 when none). */
export async function readCounter(
  db: SqlRunners,
  opts: { key: string; windowMs: number; now: number },
): Promise<number> {
  const start = Math.floor(opts.now / opts.windowMs) * opts.windowMs;
  const r = await db.exec(
    `SELECT count FROM counters
      WHERE key = ? AND window_ms = ? AND window_start = ?`,
    [opts.key, opts.windowMs, start],
  );
  return Number(r.rows[0]?.count ?? 0);
}

/**
 * Sessions that may still be running (args: `since`, `pendingSince`): live; pending with a call;
 * pending after it already ran (continuing on a new call: its next key may be in use); or minted
 * recently enough that its key could still start one. Written so SQLite plans it as one range over
 * the `(status, created_at)` index.
 */
export const ACTIVE_SESSION_SQL = `status IN ('live', 'pending') AND created_at >= ?
  AND (status = 'live' OR call_id IS NOT NULL OR started_at IS NOT NULL OR created_at >= ?)`;

const UPSERT_ONE = `INSERT INTO counters (key, window_ms, window_start, count)`;
// Adds the inserted amount (a mint counts once per live call it starts).
const ON_CONFLICT_ADD_ONE = `ON CONFLICT (key, window_ms, window_start)
  DO UPDATE SET count = count + excluded.count RETURNING count`;
const COUNTER = `(SELECT count FROM counters WHERE key = ? AND window_ms = ? AND window_start = ?)`;

/**
 * One atomic batch for the mint limits (see `Store.tallyMint`). Three short statements: SQLite
 * prepares each anew, and one statement holding everything cost more to prepare than these three.
 */
export async function tallyMint(
  db: SqlRunners,
  input: MintTallyInput,
): Promise<MintTally> {
  const { mints, usage, active } = input;
  const mintWindow = [
    input.mintWindowMs,
    Math.floor(input.now / input.mintWindowMs) * input.mintWindowMs,
  ];
  const day = [
    input.usageWindowMs,
    Math.floor(input.now / input.usageWindowMs) * input.usageWindowMs,
  ];
  const calls = Math.max(1, Math.floor(input.calls ?? 1));
  const [mine, all, figures] = await db.run([
    {
      sql: `${UPSERT_ONE} VALUES (?, ?, ?, ?) ${ON_CONFLICT_ADD_ONE}`,
      args: [mints.mine, ...mintWindow, calls],
    },
    {
      // Everyone's counter counts this mint only while the client is within its own limit.
      sql: `${UPSERT_ONE} SELECT ?, ?, ?, ? WHERE ${COUNTER} <= ? ${ON_CONFLICT_ADD_ONE}`,
      args: [mints.all, ...mintWindow, calls, mints.mine, ...mintWindow, mints.mineLimit],
    },
    {
      // Each session weighs its live calls (1 + its translation languages).
      sql: `SELECT COALESCE(SUM(calls), 0) AS active_all,
          COALESCE(SUM(CASE WHEN client_key = ? THEN calls ELSE 0 END), 0) AS active_mine,
          ${COUNTER} AS used_mine, ${COUNTER} AS used_all
        FROM sessions WHERE ${ACTIVE_SESSION_SQL}`,
      args: [
        active.clientKey,
        usage.mine,
        ...day,
        usage.all,
        ...day,
        active.since,
        active.pendingSince,
      ],
    },
  ]);
  const row = figures.rows[0] ?? {};
  const allRow = all.rows[0];
  return {
    mintsMine: Number(mine.rows[0]?.count ?? 1),
    mintsAll: allRow ? Number(allRow.count) : null,
    activeMine: Number(row.active_mine ?? 0),
    activeAll: Number(row.active_all ?? 0),
    usedMine: Number(row.used_mine ?? 0),
    usedAll: Number(row.used_all ?? 0),
  };
}

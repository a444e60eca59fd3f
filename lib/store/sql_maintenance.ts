/**
 * The SQL store's housekeeping: deleting sessions with their data, retention, and the
 * fixed-window counters. Plain functions over the store's retrying `exec`/`run`.
 *
 * @module
 */
import type { SqlResult, SqlStatement } from "./sql_store.ts";
import type { MintTally, MintTallyInput, PruneOptions } from "./types.ts";
import { ACTIVE_SESSION_SQL, STARTED_SQL } from "../session_policy.ts";

export { ACTIVE_SESSION_SQL };

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
      { sql: `DELETE FROM call_holds WHERE session_id IN (${marks})`, args: chunk },
      {
        sql: `DELETE FROM counters WHERE key IN (${marks})`,
        args: chunk.map((id) => `browser-bytes:${id}`),
      },
      { sql: `DELETE FROM sessions WHERE id IN (${marks})`, args: chunk },
    ]);
    deleted += results[6].rowsAffected;
  }
  return deleted;
}

/**
 * Retention, with started sessions (ones that had a call) and never-started ones apart: ended
 * sessions older than `maxAgeMs`, and abandoned ones (never ended) a day past it (at least two
 * days old); never-started ones created before `unstartedBefore`; and by count, ended sessions
 * beyond the newest `maxCount` of their own kind (started, or never started), where a client's
 * started sessions beyond its newest `maxPerClient` go first. So a flood of mints never pushes an
 * ended transcript out, and one client's calls push out at most its own.
 */
export async function pruneSessions(
  db: SqlRunners,
  opts: PruneOptions & { now: number },
): Promise<number> {
  const { maxAgeMs, maxCount, maxPerClient, unstartedBefore, now } = opts;
  const ids = new Set<string>();
  const add = (r: SqlResult) => {
    for (const row of r.rows) ids.add(String(row.id));
  };
  if (maxAgeMs !== undefined) {
    add(
      await db.exec(
        `SELECT id FROM sessions WHERE created_at < ?
         AND (status IN ('ended', 'failed') OR created_at < ?)`,
        [now - maxAgeMs, now - Math.max(maxAgeMs, DAY_MS) - DAY_MS],
      ),
    );
  }
  if (unstartedBefore !== undefined) {
    add(
      await db.exec(
        `SELECT id FROM sessions WHERE NOT ${STARTED_SQL} AND created_at < ?`,
        [unstartedBefore],
      ),
    );
  }
  if (maxCount !== undefined || maxPerClient !== undefined) {
    // A negative LIMIT is no limit in SQLite.
    const count = maxCount === undefined ? -1 : Math.max(0, maxCount);
    const perClient = maxPerClient === undefined ? -1 : Math.max(0, maxPerClient);
    add(
      await db.exec(
        `WITH ranked AS (
          SELECT id, status, created_at, ${STARTED_SQL} AS started,
            client_key IS NULL OR ? < 0 OR ROW_NUMBER() OVER (
              PARTITION BY ${STARTED_SQL}, client_key ORDER BY created_at DESC, id DESC) <= ?
            AS within_client
          FROM sessions),
        kept AS (
          SELECT id FROM (SELECT id, created_at FROM ranked WHERE started AND within_client
            ORDER BY created_at DESC, id DESC LIMIT ?)
          UNION ALL
          SELECT id FROM (SELECT id, created_at FROM ranked WHERE NOT started
            ORDER BY created_at DESC, id DESC LIMIT ?))
        SELECT id FROM ranked WHERE status IN ('ended', 'failed')
          AND id NOT IN (SELECT id FROM kept)`,
        [perClient, perClient, count, count],
      ),
    );
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
  await db.exec("DELETE FROM call_holds WHERE until_ms <= ?", [now]);
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

const UPSERT_ONE = `INSERT INTO counters (key, window_ms, window_start, count)`;
// Adds the inserted amount (a mint counts once per live call it starts).
const ON_CONFLICT_ADD_ONE = `ON CONFLICT (key, window_ms, window_start)
  DO UPDATE SET count = count + excluded.count RETURNING count`;
const COUNTER = `(SELECT count FROM counters WHERE key = ? AND window_ms = ? AND window_start = ?)`;

/**
 * The figures every mint decision reads (`f.active_all`, `f.active_mine`, `f.used_mine`,
 * `f.used_all`, `f.mints_mine`, `f.mints_all`), as one row: active sessions plus the calls that
 * continuations left running (`call_holds`), today's usage, and this minute's mints.
 */
function figures(input: MintTallyInput): SqlStatement {
  const { mints, usage, active, now } = input;
  const minute = [input.mintWindowMs, Math.floor(now / input.mintWindowMs) * input.mintWindowMs];
  const day = [input.usageWindowMs, Math.floor(now / input.usageWindowMs) * input.usageWindowMs];
  const window = [active.since, active.pendingSince];
  return {
    sql: `SELECT
        (SELECT COALESCE(SUM(calls), 0) FROM sessions WHERE ${ACTIVE_SESSION_SQL})
          + (SELECT COUNT(*) FROM call_holds WHERE until_ms > ?) AS active_all,
        (SELECT COALESCE(SUM(calls), 0) FROM sessions WHERE ${ACTIVE_SESSION_SQL} AND client_key = ?)
          + (SELECT COUNT(*) FROM call_holds WHERE until_ms > ? AND client_key = ?) AS active_mine,
        COALESCE(${COUNTER}, 0) AS used_mine, COALESCE(${COUNTER}, 0) AS used_all,
        COALESCE(${COUNTER}, 0) AS mints_mine, COALESCE(${COUNTER}, 0) AS mints_all`,
    args: [
      ...window,
      now,
      ...window,
      active.clientKey,
      now,
      active.clientKey,
      usage.mine,
      ...day,
      usage.all,
      ...day,
      mints.mine,
      ...minute,
      mints.all,
      ...minute,
    ],
  };
}

/**
 * `FROM (figures) f WHERE <every figure within its cap>`: the admission condition, evaluated in
 * the statement that writes, so the decision and the write are one atomic step. The same
 * comparisons as `spendRefusalFrom` in `lib/security/limits.ts`, on the same snapshot.
 */
function withinCaps(input: MintTallyInput): SqlStatement {
  const f = figures(input);
  const { caps, adds } = input.admit!;
  return {
    sql: `FROM (${f.sql}) AS f WHERE f.mints_mine <= ? AND f.mints_all <= ?
      AND f.active_mine + ? <= ? AND f.active_all + ? <= ?
      AND f.used_mine < ? AND f.used_all < ?`,
    args: [
      ...f.args!,
      caps.mintsMine,
      caps.mintsAll,
      adds,
      caps.activeMine,
      adds,
      caps.activeAll,
      caps.usedMine,
      caps.usedAll,
    ],
  };
}

/** The admission's writes (see `MintTallyInput.admit`); the last one's `rowsAffected` says. */
function admissionWrites(input: MintTallyInput): SqlStatement[] {
  const admit = input.admit!;
  const cond = withinCaps(input);
  if (admit.kind === "create") {
    const s = admit.session;
    return [{
      sql: `INSERT INTO sessions
          (id, call_id, source, status, model, settings, caller, created_at, client_key, calls)
        SELECT ?, NULL, ?, 'pending', ?, ?, ?, ?, ?, ? ${cond.sql}`,
      args: [
        s.id,
        s.source,
        s.model,
        JSON.stringify(s.settings ?? {}),
        s.caller ?? null,
        input.now,
        s.clientKey ?? null,
        Math.max(1, Math.floor(s.calls ?? 1)),
        ...cond.args!,
      ],
    }];
  }
  const release = `UPDATE sessions SET call_id = NULL, status = 'pending', ended_at = NULL,
    end_reason = NULL, started_at = ? WHERE id = ?`;
  if (admit.hold === null) {
    return [{
      sql: `${release} AND EXISTS (SELECT 1 ${cond.sql})`,
      args: [admit.startedAt, admit.sessionId, ...cond.args!],
    }];
  }
  const token = crypto.randomUUID();
  return [
    {
      sql: `INSERT INTO call_holds (call_id, session_id, client_key, until_ms, admission)
        SELECT ?, ?, ?, ?, ? ${cond.sql}
        ON CONFLICT (call_id) DO UPDATE SET until_ms = excluded.until_ms,
          admission = excluded.admission`,
      args: [
        admit.hold.callId,
        admit.sessionId,
        input.active.clientKey,
        admit.hold.untilMs,
        token,
        ...cond.args!,
      ],
    },
    {
      sql: `${release} AND EXISTS (SELECT 1 FROM call_holds WHERE call_id = ? AND admission = ?)`,
      args: [admit.startedAt, admit.sessionId, admit.hold.callId, token],
    },
  ];
}

/**
 * One atomic batch for the mint limits (see `Store.tallyMint`): count the mint, read the figures,
 * and with `input.admit` write the admission only when it is within the caps. Short statements:
 * SQLite prepares each anew, and one statement holding everything cost more to prepare.
 */
export async function tallyMint(
  db: SqlRunners,
  input: MintTallyInput,
): Promise<MintTally> {
  const { mints } = input;
  const mintWindow = [
    input.mintWindowMs,
    Math.floor(input.now / input.mintWindowMs) * input.mintWindowMs,
  ];
  const calls = Math.max(1, Math.floor(input.calls ?? 1));
  const writes = input.admit ? admissionWrites(input) : [];
  const [mine, all, read, ...written] = await db.run([
    {
      sql: `${UPSERT_ONE} VALUES (?, ?, ?, ?) ${ON_CONFLICT_ADD_ONE}`,
      args: [mints.mine, ...mintWindow, calls],
    },
    {
      // Everyone's counter counts this mint only while the client is within its own limit.
      sql: `${UPSERT_ONE} SELECT ?, ?, ?, ? WHERE ${COUNTER} <= ? ${ON_CONFLICT_ADD_ONE}`,
      args: [mints.all, ...mintWindow, calls, mints.mine, ...mintWindow, mints.mineLimit],
    },
    figures(input),
    ...writes,
  ]);
  const row = read.rows[0] ?? {};
  const allRow = all.rows[0];
  const tally: MintTally = {
    mintsMine: Number(mine.rows[0]?.count ?? 1),
    mintsAll: allRow ? Number(allRow.count) : null,
    activeMine: Number(row.active_mine ?? 0),
    activeAll: Number(row.active_all ?? 0),
    usedMine: Number(row.used_mine ?? 0),
    usedAll: Number(row.used_all ?? 0),
  };
  if (input.admit) tally.admitted = (written.at(-1)?.rowsAffected ?? 0) > 0;
  return tally;
}

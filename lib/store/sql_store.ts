/**
 * The SQL adapter of the {@linkcode Store} port, on any executor with libSQL's
 * `execute({ sql, args })` / `batch(stmts, mode)` shape: `@libsql/client` locally and Val Town's
 * std/sqlite there. Only plain SQLite SQL is used.
 *
 * Concurrency: several processes (Val Town) or two sidebands may record the same events at once.
 * An event is inserted and folded into its utterance in ONE atomic batch guarded by the utterance's
 * `version` (compare-and-swap), so an event is folded exactly once or not at all; losers re-read
 * and retry. `SQLITE_BUSY` is retried with backoff.
 *
 * @module
 */
import {
  itemIdOf,
  orderUtterances,
  reduceUtterance,
  type Utterance,
} from "../../shared/transcript.js";
import { newSessionId } from "./ids.ts";
import { migrate } from "./schema.ts";
import {
  bindCallStmt,
  decodeCursor,
  encodeCursor,
  insertEventStmt,
  isBusy,
  type Seen,
  syntheticEventId,
  toCall,
  toEvent,
  toSession,
  toUtteranceRow,
  writeUtteranceStmt,
} from "./sql_rows.ts";
import {
  ACTIVE_SESSION_SQL,
  deleteSessions,
  incrementCounter,
  pruneCounters,
  pruneSessions,
  readCounter,
  type SqlRunners,
  tallyMint,
} from "./sql_maintenance.ts";
import { mergeBrowserUtterances, readForEvent, type StoredUtterance } from "./sql_utterances.ts";
import { insertTranslationDeltas, listTranslationDeltas } from "./sql_translations.ts";
import type { NewSession, SessionRow, Store } from "./types.ts";

/** One SQL statement with positional arguments. */
export interface SqlStatement {
  sql: string;
  args?: unknown[];
}

/** What an executor returns: rows as objects keyed by column name. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  rowsAffected: number;
}

/** The minimal database client the store needs (libSQL client and Val Town std/sqlite fit). */
export interface SqlExecutor {
  execute(stmt: SqlStatement): Promise<SqlResult>;
  /** Runs statements atomically in one transaction (`"write"` = `BEGIN IMMEDIATE`). */
  batch?(
    stmts: SqlStatement[],
    mode?: "write" | "read" | "deferred",
  ): Promise<SqlResult[]>;
}

/** Options for {@linkcode createSqlStore}. */
export interface SqlStoreOptions {
  /** Raw events kept per session (oldest trimmed first; utterances are never lost). Default 5000. */
  eventLogCap?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Called by `close()` (e.g. closes the libSQL client). */
  onClose?: () => void | Promise<void>;
  /** Attempts on `SQLITE_BUSY` before giving up. Default 10. */
  busyRetries?: number;
}

const COMPLETED = "conversation.item.input_audio_transcription.completed";
const COUNTER_PRUNE_EVERY_MS = 5 * 60_000;

/**
 * Builds a {@linkcode Store} on a SQL executor. Call `migrate()` before use (`openStore` does).
 *
 * @example
 * ```ts
 * import { createClient } from "npm:@libsql/client@0.17.3";
 * const client = createClient({ url: ":memory:" });
 * const store = createSqlStore({ execute: (s) => client.execute(s as never) });
 * await store.migrate();
 * ```
 */
export function createSqlStore(
  db: SqlExecutor,
  options: SqlStoreOptions = {},
): Store {
  const cap = options.eventLogCap ?? 5000;
  const clock = options.now ?? Date.now;
  const retries = options.busyRetries ?? 10;
  let lastCounterPrune = 0;

  async function retry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isBusy(err) || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(500, 5 * 2 ** attempt) * Math.random()));
      }
    }
  }
  const exec = (sql: string, args: unknown[] = []) => retry(() => db.execute({ sql, args }));
  const run = (stmts: SqlStatement[]): Promise<SqlResult[]> =>
    retry(async () => {
      if (db.batch) return await db.batch(stmts, "write");
      const out: SqlResult[] = [];
      for (const s of stmts) out.push(await db.execute(s));
      return out;
    });

  const runners: SqlRunners = { exec, run };

  /** Old counter windows go every few minutes, on a counter write (no timer to leak). */
  async function pruneCountersNowAndThen(now: number): Promise<void> {
    if (now - lastCounterPrune <= COUNTER_PRUNE_EVERY_MS) return;
    lastCounterPrune = now;
    await pruneCounters(runners, now);
  }

  async function sessionExists(id: string): Promise<boolean> {
    return (await exec("SELECT 1 AS ok FROM sessions WHERE id = ?", [id])).rows
      .length > 0;
  }

  const store: Store = {
    async migrate() {
      await migrate(db, run);
    },

    async createSession(input: NewSession) {
      const row: SessionRow = {
        id: input.id ?? newSessionId(),
        callId: input.callId ?? null,
        source: input.source,
        status: "pending",
        model: input.model,
        settings: input.settings,
        caller: input.caller ?? null,
        createdAt: clock(),
        startedAt: null,
        endedAt: null,
        endReason: null,
      };
      const insert: SqlStatement = {
        sql: `INSERT INTO sessions
           (id, call_id, source, status, model, settings, caller, created_at, client_key, calls)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        args: [
          row.id,
          row.callId,
          row.source,
          row.status,
          row.model,
          JSON.stringify(row.settings ?? {}),
          row.caller,
          row.createdAt,
          input.clientKey ?? null,
          Math.max(1, Math.floor(input.calls ?? 1)),
        ],
      };
      if (row.callId) await run([insert, bindCallStmt(row.id, row.callId, row.createdAt)]);
      else await exec(insert.sql, insert.args);
      return row;
    },

    async sessionClientKey(id) {
      const r = await exec("SELECT client_key FROM sessions WHERE id = ?", [
        id,
      ]);
      const v = r.rows[0]?.client_key;
      return typeof v === "string" ? v : null;
    },

    async sessionCalls(id) {
      const r = await exec("SELECT calls FROM sessions WHERE id = ?", [id]);
      return Math.max(1, Number(r.rows[0]?.calls ?? 1) || 1);
    },

    recordTranslationDeltas(sessionId, deltas, { cap }) {
      return insertTranslationDeltas(runners, sessionId, deltas, { cap, now: clock() });
    },

    listTranslationDeltas(sessionId, opts) {
      return listTranslationDeltas(runners, sessionId, opts);
    },

    async setSessionOwner(id, ownerKey) {
      await exec("UPDATE sessions SET owner_key = ? WHERE id = ? AND owner_key IS NULL", [
        ownerKey,
        id,
      ]);
    },

    async sessionOwnerKey(id) {
      const r = await exec("SELECT owner_key FROM sessions WHERE id = ?", [id]);
      const v = r.rows[0]?.owner_key;
      return typeof v === "string" ? v : null;
    },

    async ensureSetting(key, value) {
      const results = await run([
        {
          sql: "INSERT OR IGNORE INTO app_settings (key, value) VALUES (?, ?)",
          args: [key, value],
        },
        { sql: "SELECT value FROM app_settings WHERE key = ?", args: [key] },
      ]);
      const stored = results[1].rows[0]?.value;
      return typeof stored === "string" ? stored : value;
    },

    async countActiveSessions({ since, clientKey, pendingSince = since }) {
      // Active sessions, plus the calls continuations left running (see `MintAdmit`).
      const active = ACTIVE_SESSION_SQL;
      // Each session weighs its live calls (1 + its translation languages); a held call weighs 1.
      const holds = "SELECT COUNT(*) FROM call_holds WHERE until_ms > ?";
      const r = clientKey === undefined
        ? await exec(
          `SELECT (SELECT COALESCE(SUM(calls), 0) FROM sessions WHERE ${active}) + (${holds}) AS n`,
          [since, pendingSince, clock()],
        )
        : await exec(
          `SELECT (SELECT COALESCE(SUM(calls), 0) FROM sessions WHERE ${active} AND client_key = ?)
            + (${holds} AND client_key = ?) AS n`,
          [since, pendingSince, clientKey, clock(), clientKey],
        );
      return Number(r.rows[0]?.n ?? 0);
    },

    async releaseCall(callId) {
      await exec("DELETE FROM call_holds WHERE call_id = ?", [callId]);
    },

    async sessionIdOfCall(callId) {
      const r = await exec(
        `SELECT session_id AS id FROM session_calls WHERE call_id = ?
         UNION ALL SELECT id FROM sessions WHERE call_id = ? LIMIT 1`,
        [callId, callId],
      );
      const v = r.rows[0]?.id;
      return typeof v === "string" ? v : null;
    },

    async getSession(id) {
      const r = await exec("SELECT * FROM sessions WHERE id = ?", [id]);
      return r.rows[0] ? toSession(r.rows[0]) : null;
    },

    async getSessionByCallId(callId) {
      const r = await exec(
        "SELECT * FROM sessions WHERE call_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        [callId],
      );
      return r.rows[0] ? toSession(r.rows[0]) : null;
    },

    async updateSession(id, patch) {
      const columns: Record<string, string> = {
        callId: "call_id",
        status: "status",
        startedAt: "started_at",
        endedAt: "ended_at",
        endReason: "end_reason",
        settings: "settings",
      };
      const sets: string[] = [];
      const args: unknown[] = [];
      for (const [key, column] of Object.entries(columns)) {
        if (!(key in patch)) continue;
        const value = (patch as Record<string, unknown>)[key];
        if (value === undefined) continue;
        sets.push(`${column} = ?`);
        args.push(key === "settings" ? JSON.stringify(value ?? {}) : value);
      }
      if (sets.length === 0) return;
      const sql = `UPDATE sessions SET ${sets.join(", ")} WHERE id = ?`;
      // The first binding of a call to the session fixes that call's offset (see `CallRow`).
      if (patch.callId) {
        await run([{ sql, args: [...args, id] }, bindCallStmt(id, patch.callId, clock())]);
      } else await exec(sql, [...args, id]);
    },

    async listLearnedRules(now) {
      const r = await exec(
        "SELECT * FROM learned_rules WHERE expires_at > ? ORDER BY model, option",
        [now],
      );
      return r.rows.map((row) => ({
        model: String(row.model),
        option: String(row.option),
        upstreamMessage: String(row.upstream_message),
        requestId: row.request_id === null ? null : String(row.request_id),
        learnedAt: Number(row.learned_at),
        expiresAt: Number(row.expires_at),
      }));
    },

    async recordLearnedRule(rule) {
      await run([
        { sql: "DELETE FROM learned_rules WHERE expires_at <= ?", args: [rule.learnedAt] },
        {
          sql: `INSERT INTO learned_rules
              (model, option, upstream_message, request_id, learned_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (model, option) DO UPDATE SET upstream_message = excluded.upstream_message,
              request_id = excluded.request_id, learned_at = excluded.learned_at,
              expires_at = excluded.expires_at`,
          args: [
            rule.model,
            rule.option,
            rule.upstreamMessage,
            rule.requestId,
            rule.learnedAt,
            rule.expiresAt,
          ],
        },
      ]);
    },

    async listCalls(sessionId) {
      const r = await exec(
        "SELECT * FROM session_calls WHERE session_id = ? ORDER BY attached_at, rowid",
        [sessionId],
      );
      return r.rows.map(toCall);
    },

    async listSessions({ limit, cursor, clientKey, ownerKey }) {
      const after = decodeCursor(cursor);
      const where: string[] = [];
      const args: unknown[] = [];
      if (after) {
        where.push("(created_at < ? OR (created_at = ? AND id < ?))");
        args.push(after.createdAt, after.createdAt, after.id);
      }
      if (clientKey !== undefined) {
        where.push("client_key = ?");
        args.push(clientKey);
      }
      if (ownerKey !== undefined) {
        where.push("owner_key = ?");
        args.push(ownerKey);
      }
      const r = await exec(
        `SELECT * FROM sessions ${where.length ? "WHERE " + where.join(" AND ") : ""}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...args, limit + 1],
      );
      const sessions = r.rows.slice(0, limit).map(toSession);
      const last = sessions.at(-1);
      const nextCursor = r.rows.length > limit && last ? encodeCursor(last) : null;
      return { sessions, nextCursor };
    },

    async deleteSession(id) {
      return (await deleteSessions(runners, [id])) > 0;
    },

    async recordEvent(sessionId, event, opts = {}) {
      const callId = opts.callId ?? null;
      const type = typeof event.type === "string" ? event.type : "unknown";
      const eventId = typeof event.event_id === "string" && event.event_id
        ? event.event_id
        : await syntheticEventId(event);
      const itemId = itemIdOf(event);
      for (let attempt = 0; attempt < 50; attempt++) {
        // Events about no item need no read: INSERT OR IGNORE alone makes them idempotent.
        let cur: StoredUtterance | null = null;
        let offsetMs = 0;
        if (itemId) {
          const read = await readForEvent(exec, sessionId, eventId, itemId, callId);
          if (read.duplicate) return null;
          cur = read.utterance;
          offsetMs = read.offsetMs;
        }
        const expected = cur?.version ?? 0;
        // The event is stored as received; only the fold moves its times onto the session's clock.
        const next = itemId ? reduceUtterance(cur?.state, event, { offsetMs }) : undefined;
        const receivedAt = clock();
        const row = { sessionId, eventId, type, event, receivedAt, callId };
        const stmts = [insertEventStmt(row, itemId, expected)];
        if (next) {
          const seenBy: Seen = cur?.seenBy === "browser"
            ? (type === COMPLETED ? "both" : "browser")
            : (cur?.seenBy ?? "server");
          stmts.push(
            writeUtteranceStmt(sessionId, next, seenBy, expected, receivedAt),
          );
        }
        stmts.push({
          sql: "SELECT seq FROM events WHERE session_id = ? AND event_id = ?",
          args: [sessionId, eventId],
        }, {
          // The bounded log: utterances were folded above, so trimming loses no transcript.
          sql: `DELETE FROM events WHERE session_id = ?
            AND seq <= (SELECT MAX(seq) FROM events WHERE session_id = ?) - ?`,
          args: [sessionId, sessionId, cap],
        });
        const results = await run(stmts);
        if (results[0].rowsAffected === 1) {
          return { ...row, seq: Number(results[next ? 2 : 1].rows[0]?.seq) };
        }
        // A duplicate, a missing session, or (item events only) a lost race: re-read and retry.
        if (!itemId || !(await sessionExists(sessionId))) return null;
      }
      throw new Error(
        `Could not record event "${eventId}": too many concurrent writers`,
      );
    },

    async listEvents(sessionId, opts = {}) {
      const limit = Math.max(1, Math.min(opts.limit ?? 1000, 10_000));
      const r = await exec(
        "SELECT * FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [sessionId, opts.afterSeq ?? 0, limit],
      );
      return r.rows.map(toEvent);
    },

    async lastEventSeq(sessionId) {
      const r = await exec(
        "SELECT MAX(seq) AS seq FROM events WHERE session_id = ?",
        [sessionId],
      );
      return Number(r.rows[0]?.seq ?? 0);
    },

    async listUtterances(sessionId) {
      const r = await exec(
        "SELECT state, seen_by, updated_at FROM utterances WHERE session_id = ? ORDER BY rowid",
        [sessionId],
      );
      const meta = new Map<string, { seenBy: Seen; updatedAt: number }>();
      const states = r.rows.map((row) => {
        const state = JSON.parse(String(row.state)) as Utterance;
        meta.set(state.itemId, {
          seenBy: String(row.seen_by) as Seen,
          updatedAt: Number(row.updated_at),
        });
        return state;
      });
      return orderUtterances(states).map((u) => {
        const m = meta.get(u.itemId)!;
        return toUtteranceRow(sessionId, u, m.seenBy, m.updatedAt);
      });
    },

    mergeBrowserUtterances(sessionId, utterances, opts) {
      return mergeBrowserUtterances({ exec, run, clock }, sessionId, utterances, opts);
    },

    async prune({ now = clock(), ...opts }) {
      lastCounterPrune = now;
      await pruneCounters(runners, now);
      return await pruneSessions(runners, { ...opts, now });
    },

    async incrementCounter(key, windowMs, amount = 1, now = clock()) {
      const total = await incrementCounter(runners, {
        key,
        windowMs,
        amount,
        now,
      });
      await pruneCountersNowAndThen(now);
      return total;
    },

    async tallyMint(input) {
      const tally = await tallyMint(runners, input);
      await pruneCountersNowAndThen(input.now);
      return tally;
    },

    readCounter(key, windowMs, now = clock()) {
      return readCounter(runners, { key, windowMs, now });
    },

    async close() {
      await options.onClose?.();
    },
  };
  return store;
}

export { decodeCursor, encodeCursor } from "./sql_rows.ts";

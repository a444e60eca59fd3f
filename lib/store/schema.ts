/**
 * The SQL schema as versioned migrations. {@linkcode migrate} is idempotent and safe when two
 * processes start at once: every statement is `IF NOT EXISTS` and each version is recorded with
 * `INSERT OR IGNORE` in the same batch as its statements.
 *
 * @module
 */
import type { SqlExecutor, SqlStatement } from "./sql_store.ts";

/** One schema change, applied once. */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** Every migration, oldest first. Append only; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "sessions, utterances, events, counters",
    statements: [
      `CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        call_id TEXT,
        source TEXT NOT NULL,
        status TEXT NOT NULL,
        model TEXT NOT NULL,
        settings TEXT NOT NULL,
        caller TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        end_reason TEXT
      )`,
      `CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created_at DESC, id DESC)`,
      `CREATE INDEX IF NOT EXISTS sessions_call ON sessions (call_id)`,
      `CREATE TABLE IF NOT EXISTS utterances (
        session_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        previous_item_id TEXT,
        status TEXT NOT NULL,
        text TEXT NOT NULL,
        start_ms REAL,
        end_ms REAL,
        confidence REAL,
        error TEXT,
        seen_by TEXT NOT NULL,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, item_id)
      )`,
      `CREATE TABLE IF NOT EXISTS events (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq),
        UNIQUE (session_id, event_id)
      )`,
      `CREATE TABLE IF NOT EXISTS counters (
        key TEXT NOT NULL,
        window_ms INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        count REAL NOT NULL,
        PRIMARY KEY (key, window_ms, window_start)
      )`,
      `CREATE INDEX IF NOT EXISTS counters_expiry ON counters (window_start)`,
    ],
  },
  {
    // Added by lib/security (per-client concurrency and budgets): an HMAC pseudonym of the IP.
    version: 2,
    name: "sessions.client_key",
    statements: [
      `ALTER TABLE sessions ADD COLUMN client_key TEXT`,
      `CREATE INDEX IF NOT EXISTS sessions_active ON sessions (status, created_at)`,
    ],
  },
  {
    // A session may move to new calls (routes/session/continue.ts), each with an audio clock that
    // starts at 0: every call bound to a session, with its offset on the session's clock, and the
    // call each event came from. A session bound to a call before this version gets that call as
    // its first (offset 0).
    version: 3,
    name: "session_calls, events.call_id",
    statements: [
      `CREATE TABLE IF NOT EXISTS session_calls (
        session_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        attached_at INTEGER NOT NULL,
        offset_ms REAL NOT NULL,
        PRIMARY KEY (session_id, call_id)
      )`,
      `INSERT OR IGNORE INTO session_calls (session_id, call_id, attached_at, offset_ms)
        SELECT id, call_id, COALESCE(started_at, created_at), 0 FROM sessions
        WHERE call_id IS NOT NULL`,
      `ALTER TABLE events ADD COLUMN call_id TEXT`,
    ],
  },
  {
    // Options OpenAI refused for a model although the catalog allowed them (lib/self_heal.ts):
    // later sessions leave them out until the rule expires.
    version: 4,
    name: "learned_rules",
    statements: [
      `CREATE TABLE IF NOT EXISTS learned_rules (
        model TEXT NOT NULL,
        option TEXT NOT NULL,
        upstream_message TEXT NOT NULL,
        request_id TEXT,
        learned_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (model, option)
      )`,
    ],
  },
  {
    // Live translation: a session holds 1 + one call per translation language (its weight on the
    // caps), and the translated text the page posts, delta by delta, idempotent by event id.
    version: 5,
    name: "sessions.calls, translation_deltas",
    statements: [
      `ALTER TABLE sessions ADD COLUMN calls INTEGER NOT NULL DEFAULT 1`,
      `CREATE TABLE IF NOT EXISTS translation_deltas (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        language TEXT NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        elapsed_ms REAL NOT NULL,
        at_ms REAL NOT NULL,
        item_id TEXT,
        call_id TEXT,
        received_at INTEGER NOT NULL,
        UNIQUE (session_id, language, event_id)
      )`,
      `CREATE INDEX IF NOT EXISTS translation_deltas_session ON translation_deltas (session_id, seq)`,
    ],
  },
  {
    // Who may list and delete a session: an HMAC of the random client id in the page's cookie
    // (lib/security/client_id.ts), never the IP. And the val's own settings, such as the secrets
    // generated when none is configured (lib/security/secrets.ts).
    version: 6,
    name: "sessions.owner_key, app_settings",
    statements: [
      `ALTER TABLE sessions ADD COLUMN owner_key TEXT`,
      `CREATE INDEX IF NOT EXISTS sessions_owner ON sessions (owner_key, created_at DESC, id DESC)`,
      `CREATE TABLE IF NOT EXISTS app_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      )`,
    ],
  },
  {
    // A continuation may leave the session's previous call running (a rotation overlaps two
    // calls): that call holds a concurrency slot of the client until it ends or its session's
    // time is up (lib/security/mint_limits.ts). Version 5 is the translations', 6 the web-security
    // branch's; the runner applies every version not yet recorded.
    version: 7,
    name: "call_holds",
    statements: [
      `CREATE TABLE IF NOT EXISTS call_holds (
        call_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        client_key TEXT,
        until_ms INTEGER NOT NULL,
        admission TEXT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS call_holds_until ON call_holds (until_ms)`,
      `CREATE INDEX IF NOT EXISTS session_calls_call ON session_calls (call_id)`,
    ],
  },
];

/** Creates the migrations table and applies every migration not yet recorded. */
export async function migrate(
  db: SqlExecutor,
  run: (stmts: SqlStatement[]) => Promise<unknown>,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<void> {
  // One query when the schema is current (every cold start): read the applied versions, and
  // create the bookkeeping table only when that read fails (a new database).
  const applied = async () =>
    new Set(
      (await db.execute({ sql: "SELECT version FROM schema_migrations" })).rows
        .map((r) => Number(r.version)),
    );
  let done: Set<number>;
  try {
    done = await applied();
  } catch {
    await db.execute({
      sql: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`,
    });
    done = await applied();
  }
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    try {
      await run([
        ...m.statements.map((sql) => ({ sql })),
        {
          sql:
            "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          args: [m.version, m.name, Date.now()],
        },
      ]);
    } catch (err) {
      // Another process may have applied it between our read and our write.
      const again = await db.execute({
        sql: "SELECT 1 AS ok FROM schema_migrations WHERE version = ?",
        args: [m.version],
      });
      if (again.rows.length === 0) throw err;
    }
  }
}

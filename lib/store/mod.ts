/**
 * Opens the store the app runs on, chosen once at start-up and injected everywhere:
 *
 * - Val Town: its std/sqlite (val-scoped database, rows are objects).
 * - Local: `@libsql/client` on `DATABASE_URL` (a `file:` path, `:memory:`, or a remote `libsql://`
 *   URL with `DATABASE_AUTH_TOKEN`), else `file:./data/app.db`.
 *
 * Migrations and retention (`prune`) run before the store is returned; retention runs again after
 * sessions end (see {@linkcode withRetention}).
 *
 * @module
 */
import type { Config } from "../config.ts";
import { createSqlStore, type SqlExecutor, type SqlStoreOptions } from "./sql_store.ts";
import type { Store } from "./types.ts";

export { createSqlStore } from "./sql_store.ts";
export type { SqlExecutor, SqlResult, SqlStatement, SqlStoreOptions } from "./sql_store.ts";
export { isSessionId, newSessionId, SESSION_ID_PATTERN } from "./ids.ts";
export type * from "./types.ts";

/** Default database file for local runs. */
export const DEFAULT_DATABASE_URL = "file:./data/app.db";

// A variable specifier keeps local type checks and test runs from resolving the Val Town module.
const VALTOWN_SQLITE = "https://esm.town/v/std/sqlite/main.ts";
// Not a literal either: Deno resolves an npm package named by a literal `import()` when it loads
// this module, at start, even on Val Town, which never uses the driver.
const LIBSQL_CLIENT = "npm:@libsql/client@0.17.3";

/** Options for {@linkcode openStore}. */
export interface OpenStoreOptions extends SqlStoreOptions {
  /** Overrides `config.databaseUrl` (tests pass `":memory:"` or a temp file URL). */
  url?: string;
  /** Least time between two opportunistic prunes (see {@linkcode withRetention}). */
  pruneEveryMs?: number;
  /** Wraps the SQL executor, which sees every round trip to the database (benchmarks count them). */
  wrapExecutor?: (executor: SqlExecutor) => SqlExecutor;
}

/**
 * Opens and migrates the store for this platform.
 *
 * @example
 * ```ts
 * const store = await openStore(config);
 * const app = createApp({ config, store, readFile });
 * ```
 */
export async function openStore(
  config: Config,
  options: OpenStoreOptions = {},
): Promise<Store> {
  let store: Store;
  if (config.platform === "valtown" && !options.url) {
    const mod = await import(VALTOWN_SQLITE);
    const executor = mod.sqlite as SqlExecutor;
    store = createSqlStore(options.wrapExecutor?.(executor) ?? executor, options);
  } else {
    store = await openLibsql(
      options.url ?? config.databaseUrl ?? DEFAULT_DATABASE_URL,
      config.databaseAuthToken,
      options,
    );
  }
  await store.migrate();
  const retained = withRetention(store, config.retention, {
    everyMs: options.pruneEveryMs,
    now: options.now,
  });
  // Retention at start-up; a failure here must not keep the app from starting.
  await retained.pruneNow().catch(() => {});
  return retained.store;
}

/** Options for {@linkcode withRetention}. */
export interface RetentionOptions {
  /** Least time between two opportunistic prunes in this process. Default 10 minutes. */
  everyMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Wraps a store so that retention (`config.retention`) runs opportunistically: after a session is
 * marked ended or failed, or a mint is admitted, at most once per `everyMs` in this process. `pruneNow()` runs it at once.
 */
export function withRetention(
  store: Store,
  retention: Config["retention"],
  options: RetentionOptions = {},
): { store: Store; pruneNow: () => Promise<number> } {
  const everyMs = options.everyMs ?? 10 * 60_000;
  const clock = options.now ?? Date.now;
  let last = -Infinity;
  let lastOnCreate = -Infinity;
  const prune = (now: number) =>
    store.prune({
      maxAgeMs: retention.maxAgeDays * 86_400_000,
      maxCount: retention.maxSessions,
      maxPerClient: retention.maxSessionsPerClient,
      unstartedBefore: now - retention.unstartedKeepMs,
      now,
    });
  const pruneNow = () => prune(last = clock());
  // Admitted mints are checked too (on their own interval): never-started rows go soon after
  // their start-by time, however few sessions end.
  const afterCreate = async () => {
    const now = clock();
    if (now - lastOnCreate < everyMs) return;
    lastOnCreate = now;
    await prune(now).catch(() => {});
  };
  const wrapped: Store = Object.create(store);
  wrapped.tallyMint = async (input) => {
    const tally = await store.tallyMint(input);
    if (tally.admitted && input.admit?.kind === "create") await afterCreate();
    return tally;
  };
  wrapped.updateSession = async (id, patch) => {
    await store.updateSession(id, patch);
    const ended = patch.status === "ended" || patch.status === "failed";
    if (ended && clock() - last >= everyMs) await pruneNow().catch(() => {});
  };
  return { store: wrapped, pruneNow };
}

async function openLibsql(
  url: string,
  authToken: string | null,
  options: OpenStoreOptions,
): Promise<Store> {
  const { createClient }: typeof import("npm:@libsql/client@0.17.3") = await import(LIBSQL_CLIENT);
  const local = url === ":memory:" || url.startsWith("file:");
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length).split("?")[0];
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(dir, { recursive: true });
  }
  const client = createClient({ url, authToken: authToken ?? undefined });
  const raw: SqlExecutor = {
    execute: (stmt) => client.execute(stmt as never) as never,
    batch: (stmts, mode) => client.batch(stmts as never, mode ?? "write") as never,
  };
  const executor = options.wrapExecutor?.(raw) ?? raw;
  if (local) {
    // Several processes (or two stores in tests) may share one file: wait for locks, use WAL.
    await executor.execute({ sql: "PRAGMA busy_timeout = 5000" });
    if (url !== ":memory:") {
      await executor.execute({ sql: "PRAGMA journal_mode = WAL" });
      // WAL + NORMAL: commits skip the fsync (checkpoints still sync). A crash of the process loses
      // nothing; only a power cut can drop the last commits. Each write gets ~10x cheaper.
      await executor.execute({ sql: "PRAGMA synchronous = NORMAL" });
    }
  }
  return createSqlStore(executor, {
    ...options,
    onClose: async () => {
      await options.onClose?.();
      client.close();
    },
  });
}

/**
 * A {@linkcode Store} that opens on its first use. The page and its files never touch the store, so
 * a cold process serves `/` without waiting for the database (on Val Town, HTTP round trips to its
 * SQLite); the first request that needs it opens and migrates it, and concurrent first requests
 * share that one opening. A failed opening is retried by the next call.
 *
 * @module
 */
import type { Store } from "./types.ts";

/** Opening the store failed (the database unreachable, a migration refused); the app answers 503. */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

/** A store opened on first use; `opened` tells whether that has happened (for tests and benches). */
export interface LazyStore extends Store {
  readonly opened: boolean;
}

/**
 * Wraps `open` so that it runs on the first method call, once.
 *
 * @example
 * ```ts
 * const store = lazyStore(() => openStore(config));
 * await store.getSession("s_…"); // opens, migrates, then reads
 * ```
 */
export function lazyStore(open: () => Promise<Store>): LazyStore {
  let opening: Promise<Store> | null = null;
  const get = () =>
    opening ??= open().catch((err) => {
      opening = null;
      throw new StoreOpenError(`The store could not be opened: ${err}`, { cause: err });
    });
  return new Proxy({} as LazyStore, {
    get(_target, name) {
      if (name === "opened") return opening !== null;
      // Not a thenable: `await lazyStore(…)` must not call `then`.
      if (typeof name === "symbol" || name === "then") return undefined;
      if (name === "close") {
        return async () => {
          if (opening) await (await opening.catch(() => null))?.close();
        };
      }
      return async (...args: unknown[]) => {
        const store = await get() as unknown as Record<string, (...a: unknown[]) => unknown>;
        return await store[name](...args);
      };
    },
  });
}

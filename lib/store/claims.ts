/**
 * Once-only claims on the Store's shared counters: "has anyone, in any process, already done X?"
 * Used for webhook ids and call ids (`lib/sip.ts`, `routes/webhooks.ts`) and for charging a
 * session's minutes exactly once (`lib/security/limits.ts`).
 *
 * @module
 */
import type { Store } from "./types.ts";

/**
 * Window of the counters that hold claims. A claim looks at the current and the previous window,
 * so a key is remembered for at least a day — far longer than the 300 s a signed webhook stays
 * valid or the longest session.
 */
export const CLAIM_WINDOW_MS = 86_400_000;

/**
 * Claims `key` once across every process sharing the Store (an atomic counter increment): true
 * for the first claim, false when the key was claimed in this or the previous window.
 *
 * @example
 * ```ts
 * if (await claimOnce(store, `webhook:${id}`, Date.now())) {
 *   // first delivery: act on it
 * }
 * ```
 */
export async function claimOnce(
  store: Store,
  key: string,
  now: number,
): Promise<boolean> {
  const count = await store.incrementCounter(key, CLAIM_WINDOW_MS, 1, now);
  if (count > 1) return false;
  return await store.readCounter(key, CLAIM_WINDOW_MS, now - CLAIM_WINDOW_MS) <= 0;
}

/** Gives a claim back (same `now` as the claim) so a retry can claim it again. */
export async function releaseClaim(
  store: Store,
  key: string,
  now: number,
): Promise<void> {
  await store.incrementCounter(key, CLAIM_WINDOW_MS, -1, now);
}

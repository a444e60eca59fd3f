/**
 * Caps on what a client may write: every request that changes something under `/api` (gap
 * repair, the call routes, continuations, deletions) counts against a per-client rate per minute,
 * and the transcript text the page stores is capped per session (in the writing statements,
 * `Store.mergeBrowserUtterances`) and per client and UTC day ({@linkcode clientWriteBudget}).
 * Mints are capped by `mint_limits.ts` and are not counted here.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import { apiError } from "../api_errors.ts";
import type { Config } from "../config.ts";
import type { Store } from "../store/types.ts";
import { secondsToWindowEnd } from "./windows.ts";
import { clientIp, clientKey } from "./client_ip.ts";
import { DAY_MS, MINUTE_MS } from "./limits.ts";

/** Options for {@linkcode writeLimits}. */
export interface WriteLimitsOptions {
  config: Pick<Config, "writes" | "platform" | "signingSecret">;
  store: Store;
  /** Paths whose POST is a mint (capped by the mint limits instead). */
  mintPaths: string[];
  /** Clock, for tests. */
  now?: () => number;
}

/** The caller's client key, as the mint limits derive it. */
export function requesterKey(
  c: Context,
  config: Pick<Config, "platform" | "signingSecret">,
): Promise<string> {
  return clientKey(config.signingSecret, clientIp(c, { platform: config.platform }));
}

/**
 * Counts every non-GET request under `/api` (mints excepted) against the client's writes per
 * minute; over the cap: 429 `write_rate_limited` with `Retry-After`.
 */
export function writeLimits(options: WriteLimitsOptions): MiddlewareHandler {
  const clock = options.now ?? Date.now;
  const { config, store } = options;
  return async function writeLimitsMiddleware(c, next) {
    const method = c.req.method;
    const path = c.req.path;
    const write = method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
    if (!write || !path.startsWith("/api/") || options.mintPaths.includes(path)) {
      return await next();
    }
    const now = clock();
    const key = await requesterKey(c, config);
    const count = await store.incrementCounter(`writes:${key}`, MINUTE_MS, 1, now);
    if (count > config.writes.perMinutePerIp) {
      const wait = secondsToWindowEnd(MINUTE_MS, now);
      return apiError(
        429,
        "write_rate_limited",
        `Too many requests from your address; try again in ${wait} s`,
        { headers: { "Retry-After": String(wait) } },
      );
    }
    return await next();
  };
}

/** The client's page-written bytes of today, and how to charge more (see the module doc). */
export function clientWriteBudget(
  store: Store,
  config: Pick<Config, "writes">,
  key: string,
  now = Date.now(),
): { refusal(): Promise<Response | null>; charge(bytes: number): Promise<void> } {
  const counter = `write-bytes:${key}`;
  return {
    async refusal() {
      const used = await store.readCounter(counter, DAY_MS, now);
      if (used < config.writes.clientMaxBytesPerDay) return null;
      const wait = secondsToWindowEnd(DAY_MS, now);
      return apiError(
        429,
        "write_budget_exhausted",
        "Your address has stored today's share of transcript text; it resets at 00:00 UTC",
        { headers: { "Retry-After": String(wait) } },
      );
    },
    async charge(bytes) {
      if (bytes > 0) await store.incrementCounter(counter, DAY_MS, bytes, now);
    },
  };
}

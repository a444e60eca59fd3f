/**
 * Spend limits on session mints, kept in the Store so they hold across Val Town processes:
 * mints per minute (per client and global), concurrent live sessions (per client and global), and
 * transcription minutes per UTC day (per client and global). Each refusal is a 429 with
 * `Retry-After` and a JSON message the page shows as is.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import type { ErrorBody } from "../../app.ts";
import type { Config } from "../config.ts";
import type { SessionRow, Store } from "../store/types.ts";
import { secondsToWindowEnd } from "./access.ts";
import { clientIp, clientKey } from "./client_ip.ts";
import { claimOnce } from "../store/claims.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Context variable holding the caller's pseudonymous client key (see {@linkcode clientKeyOf}). */
export const CLIENT_KEY_VAR = "clientKey";

/** The caller's client key set by {@linkcode mintLimits}, for `store.createSession({clientKey})`. */
export function clientKeyOf(c: Context): string | null {
  const v = (c as Context<{ Variables: { clientKey?: string } }>).get(
    CLIENT_KEY_VAR,
  );
  return typeof v === "string" ? v : null;
}

/** Options for {@linkcode mintLimits}. */
export interface MintLimitsOptions {
  config: Pick<Config, "limits" | "platform" | "signingSecret" | "ephemeralKeyTtlSeconds">;
  store: Store;
  /** Exact paths whose POST creates an upstream session, e.g. `["/api/session"]`. */
  paths: string[];
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Counts sessions that may still be running: status `pending` or `live`, created within the last
 * `maxSessionSeconds` (the sideband hangs up older ones). Uses `store.countActiveSessions` when the
 * adapter has it; otherwise walks `listSessions` (newest first) and can only count globally.
 */
export async function countActiveSessions(
  store: Store,
  opts: { since: number; clientKey?: string; pendingSince?: number },
): Promise<number | null> {
  if (typeof store.countActiveSessions === "function") {
    return await store.countActiveSessions(opts);
  }
  if (opts.clientKey !== undefined) return null;
  let count = 0;
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const res: { sessions: SessionRow[]; nextCursor: string | null } = await store.listSessions({
      limit: 100,
      cursor,
    });
    for (const s of res.sessions) {
      if (s.createdAt < opts.since) return count;
      const unusedKey = s.status === "pending" && s.callId === null &&
        s.createdAt < (opts.pendingSince ?? opts.since);
      if ((s.status === "pending" || s.status === "live") && !unusedKey) count++;
    }
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return count;
}

/** Adds `seconds` of transcription to today's budget counters (global, and the client's). */
export async function recordUsage(
  store: Store,
  usage: { seconds: number; clientKey?: string | null; now?: number },
): Promise<void> {
  const seconds = Math.ceil(usage.seconds);
  if (!(seconds > 0)) return;
  const now = usage.now ?? Date.now();
  await store.incrementCounter("usage-seconds:*", DAY_MS, seconds, now);
  if (usage.clientKey) {
    await store.incrementCounter(
      `usage-seconds:${usage.clientKey}`,
      DAY_MS,
      seconds,
      now,
    );
  }
}

/**
 * Charges a session to the daily minutes budget as it ends: `now - startedAt` seconds, to the
 * client that minted it. Called by `lib/sideband.ts` when the sideband ends and by
 * `DELETE /api/sessions/:id` before it deletes a live session (the client key goes with the row).
 * Only the first call per session charges (a claim in the Store, shared by every process); it
 * returns whether it did.
 */
export async function chargeSessionUsage(
  store: Store,
  charge: { sessionId: string; startedAt: number; now?: number },
): Promise<boolean> {
  const now = charge.now ?? Date.now();
  // Read before claiming (issue #8 race): the row may be deleted while the other charger runs.
  const clientKey = (await store.sessionClientKey?.(charge.sessionId)) ?? null;
  if (!await claimOnce(store, `usage-charged:${charge.sessionId}`, now)) return false;
  await recordUsage(store, {
    seconds: (now - charge.startedAt) / 1000,
    clientKey,
    now,
  });
  return true;
}

/** Why a new session may not start now. */
export interface Refusal {
  code: "rate_limited" | "too_many_sessions" | "daily_budget_exhausted";
  message: string;
  /** Seconds until trying again makes sense. */
  retryAfter: number;
}

/**
 * The spend caps that apply to ANY new session, whoever starts it (a page's mint, or an incoming
 * SIP call before `/accept`): concurrency and today's minutes, for one client when `clientKey` is
 * given, and globally. Null when the session may start.
 */
export async function spendRefusal(
  store: Store,
  limits: Config["limits"],
  opts: { clientKey?: string | null; now?: number; pendingTtlSeconds?: number } = {},
): Promise<Refusal | null> {
  const now = opts.now ?? Date.now();
  // A minted key that never started a call holds a slot only while it could still start one.
  const pendingSince = now - (opts.pendingTtlSeconds ?? 120) * 1000;
  const key = opts.clientKey ?? null;
  const waitDay = secondsToWindowEnd(DAY_MS, now);
  const since = now - limits.maxSessionSeconds * 1000;
  if (key !== null) {
    const mine = await countActiveSessions(store, { since, clientKey: key, pendingSince });
    if (mine !== null && mine >= limits.concurrentSessionsPerIp) {
      return {
        code: "too_many_sessions",
        message:
          `You already have ${mine} live sessions (limit ${limits.concurrentSessionsPerIp}); stop one first`,
        retryAfter: 30,
      };
    }
  }
  const all = await countActiveSessions(store, { since, pendingSince });
  if (all !== null && all >= limits.concurrentSessions) {
    return {
      code: "too_many_sessions",
      message: `This app has ${all} live sessions, its limit; try again in a minute`,
      retryAfter: 60,
    };
  }
  if (key !== null) {
    const used = await store.readCounter(`usage-seconds:${key}`, DAY_MS, now);
    if (used >= limits.dailyMinutesPerIp * 60) {
      return {
        code: "daily_budget_exhausted",
        message:
          `You have used today's ${limits.dailyMinutesPerIp} minutes of transcription; it resets at 00:00 UTC`,
        retryAfter: waitDay,
      };
    }
  }
  const usedAll = await store.readCounter("usage-seconds:*", DAY_MS, now);
  if (usedAll >= limits.dailyMinutes * 60) {
    return {
      code: "daily_budget_exhausted",
      message:
        `This app has used today's ${limits.dailyMinutes} minutes of transcription; it resets at 00:00 UTC`,
      retryAfter: waitDay,
    };
  }
  return null;
}

function tooMany(c: Context, refusal: Refusal): Response {
  c.header("Retry-After", String(refusal.retryAfter));
  return c.json<ErrorBody>({
    error: { code: refusal.code, message: refusal.message },
  }, 429);
}

/**
 * Refuses a session mint that would exceed a limit; otherwise sets the client key variable and
 * lets the route run. Order: per-client mints, global mints, then {@linkcode spendRefusal}.
 *
 * @example
 * ```ts
 * app.use(mintLimits({ config, store, paths: ["/api/session"] }));
 * ```
 */
export function mintLimits(options: MintLimitsOptions): MiddlewareHandler {
  const { limits } = options.config;
  const clock = options.now ?? Date.now;
  return async function mintLimitsMiddleware(c, next) {
    if (c.req.method !== "POST" || !options.paths.includes(c.req.path)) {
      return await next();
    }
    const now = clock();
    const ip = clientIp(c, { platform: options.config.platform });
    const key = await clientKey(options.config.signingSecret, ip);
    c.set(CLIENT_KEY_VAR as never, key as never);
    const store = options.store;
    const wait = secondsToWindowEnd(MINUTE_MS, now);
    const mine = await store.incrementCounter(
      `mints:${key}`,
      MINUTE_MS,
      1,
      now,
    );
    if (mine > limits.mintsPerMinutePerIp) {
      return tooMany(c, {
        code: "rate_limited",
        message: `Too many sessions started from your address; try again in ${wait} s`,
        retryAfter: wait,
      });
    }
    const all = await store.incrementCounter("mints:*", MINUTE_MS, 1, now);
    if (all > limits.mintsPerMinute) {
      return tooMany(c, {
        code: "rate_limited",
        message: `This app is busy; try again in ${wait} s`,
        retryAfter: wait,
      });
    }
    const refusal = await spendRefusal(store, limits, {
      clientKey: key,
      now,
      pendingTtlSeconds: options.config.ephemeralKeyTtlSeconds,
    });
    if (refusal) return tooMany(c, refusal);
    await next();
  };
}

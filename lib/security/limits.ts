/**
 * Spend limits on session mints, kept in the Store so they hold across Val Town processes:
 * mints per minute (per client and global), concurrent live sessions (per client and global), and
 * transcription minutes per UTC day (per client and global). This module reads the figures and
 * decides; `mint_limits.ts` applies the decision to mint requests (a 429 with `Retry-After` and a
 * JSON message the page shows as is).
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Store } from "../store/types.ts";
import { secondsToWindowEnd } from "./windows.ts";
import { claimOnce } from "../store/claims.ts";
import { activeWindow } from "../session_policy.ts";

/** Window of the mint counters. */
export const MINUTE_MS = 60_000;
/** Window of the usage counters (a UTC day). */
export const DAY_MS = 86_400_000;

/**
 * Counts sessions that may still be running: status `pending` or `live`, created within the last
 * `maxSessionSeconds` (the sideband hangs up older ones), each weighing its live calls.
 */
export async function countActiveSessions(
  store: Store,
  opts: { since: number; clientKey?: string; pendingSince?: number },
): Promise<number> {
  return await store.countActiveSessions(opts);
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
  // Read before claiming: the row may be deleted while the other charger (the race) runs.
  const clientKey = await store.sessionClientKey(charge.sessionId);
  // A session with translations charges its minutes once per live call (1 + its languages).
  const calls = await store.sessionCalls(charge.sessionId);
  if (!await claimOnce(store, `usage-charged:${charge.sessionId}`, now)) return false;
  await recordUsage(store, {
    seconds: calls * (now - charge.startedAt) / 1000,
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
  /** Whose cap was reached: the one client's, or everyone's together. */
  scope: "client" | "all";
}

/** The figures the spend caps decide on; null where the Store cannot tell. */
export interface SpendFigures {
  activeMine: number | null;
  activeAll: number | null;
  /** Seconds of transcription used today. */
  usedMine: number | null;
  usedAll: number;
}

/**
 * The spend-cap decision from figures already read: the client's concurrency, everyone's, the
 * client's minutes today, everyone's — the first cap reached refuses. Null when the session may
 * start. Pure, so the single-batch path and the call-by-call path decide identically; the SQL
 * that writes an admission (`withinCaps` in `lib/store/sql_maintenance.ts`) makes the same
 * comparisons on the same snapshot.
 */
export function spendRefusalFrom(
  figures: SpendFigures,
  limits: Config["limits"],
  now: number,
  adds = 1,
): Refusal | null {
  const { activeMine, activeAll, usedMine, usedAll } = figures;
  // `adds`: the live calls the admission adds (a session with translations holds 1 + one per
  // language, all of which must fit; 0 when it reuses the slot its session holds).
  if (activeMine !== null && activeMine + adds > limits.concurrentSessionsPerIp) {
    return {
      code: "too_many_sessions",
      message:
        `You already have ${activeMine} live sessions (limit ${limits.concurrentSessionsPerIp}); stop one first`,
      retryAfter: 30,
      scope: "client",
    };
  }
  if (activeAll !== null && activeAll + adds > limits.concurrentSessions) {
    return {
      code: "too_many_sessions",
      message: `This app has ${activeAll} live sessions, its limit; try again in a minute`,
      retryAfter: 60,
      scope: "all",
    };
  }
  const waitDay = secondsToWindowEnd(DAY_MS, now);
  if (usedMine !== null && usedMine >= limits.dailyMinutesPerIp * 60) {
    return {
      code: "daily_budget_exhausted",
      message:
        `You have used today's ${limits.dailyMinutesPerIp} minutes of transcription; it resets at 00:00 UTC`,
      retryAfter: waitDay,
      scope: "client",
    };
  }
  if (usedAll >= limits.dailyMinutes * 60) {
    return {
      code: "daily_budget_exhausted",
      message:
        `This app has used today's ${limits.dailyMinutes} minutes of transcription; it resets at 00:00 UTC`,
      retryAfter: waitDay,
      scope: "all",
    };
  }
  return null;
}

/**
 * The spend caps that apply to ANY new session, whoever starts it (a page's mint, or an incoming
 * SIP call before `/accept`): concurrency and today's minutes, for one client when `clientKey` is
 * given, and globally. Null when the session may start.
 */
export async function spendRefusal(
  store: Store,
  limits: Config["limits"],
  opts: {
    clientKey?: string | null;
    now?: number;
    ephemeralKeyTtlSeconds?: number;
    /** Live calls the new session holds (1 + translation languages). */
    adds?: number;
  } = {},
): Promise<Refusal | null> {
  const now = opts.now ?? Date.now();
  const key = opts.clientKey ?? null;
  // Which sessions are active is the session policy's rule (`lib/session_policy.ts`); without the
  // key lifetime, a never-started session counts for the whole window (never too few).
  const window = activeWindow({
    limits,
    ephemeralKeyTtlSeconds: opts.ephemeralKeyTtlSeconds ?? limits.maxSessionSeconds,
  }, now);
  return spendRefusalFrom(
    {
      activeMine: key === null
        ? null
        : await countActiveSessions(store, { ...window, clientKey: key }),
      activeAll: await countActiveSessions(store, window),
      usedMine: key === null ? null : await store.readCounter(`usage-seconds:${key}`, DAY_MS, now),
      usedAll: await store.readCounter("usage-seconds:*", DAY_MS, now),
    },
    limits,
    now,
    opts.adds,
  );
}

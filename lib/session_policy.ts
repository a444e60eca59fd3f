/**
 * The session time windows, in one place: when a minted session must start its first call
 * (start-by), which sessions hold a concurrency slot (active), how long an ended session may still
 * be continued, how long a ticket lives, and when a never-started row is deleted. The SQL adapter
 * (`lib/store/sql_maintenance.ts`) and the routes and limits in JavaScript take their numbers and
 * their meaning from here, so a row the SQL counts as active is exactly one the routes let start.
 *
 * A session is *started* once it had a call (a call id was bound, or it ran): from then on its
 * start-by time no longer applies. A session that never started holds a slot only until its
 * start-by time, and its row is deleted soon after.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { SessionRow } from "./store/types.ts";

/** The configuration the windows depend on. */
export type PolicyConfig = Pick<Config, "ephemeralKeyTtlSeconds"> & {
  limits: Pick<Config["limits"], "maxSessionSeconds">;
};

/** How long after its call ended a session may still be continued (ICE failures end calls). */
export const CONTINUE_WINDOW_MS = 2 * 60_000;

/** Seconds a ticket outlives the longest session (a slow Stop, a late gap repair). */
export const TICKET_SLACK_SECONDS = 120;

/**
 * How long a never-started row is kept after its start-by time: a call started just before the
 * key expired still finds its session when its sideband attaches.
 */
export const UNSTARTED_GRACE_MS = 5 * 60_000;

/** Seconds a session has, from its creation, to start its first call (the key's lifetime). */
export function startWindowSeconds(config: Pick<Config, "ephemeralKeyTtlSeconds">): number {
  return config.ephemeralKeyTtlSeconds;
}

/**
 * Unix seconds by which a session created at `createdAtMs` must start its first call: what a key
 * minted with it would allow. Rounded down, so the page never thinks it has longer than allowed.
 */
export function startBySeconds(config: PolicyConfig, createdAtMs: number): number {
  return Math.floor(createdAtMs / 1000) + startWindowSeconds(config);
}

/** Seconds a ticket is valid: the key's lifetime plus the longest session, plus slack. */
export function ticketTtlSeconds(config: PolicyConfig): number {
  return startWindowSeconds(config) + config.limits.maxSessionSeconds + TICKET_SLACK_SECONDS;
}

/**
 * A started session in SQL (see the module doc); {@linkcode isStarted} is the same test on a row.
 * Used inside {@linkcode ACTIVE_SESSION_SQL} and retention.
 */
export const STARTED_SQL = `(status = 'live' OR call_id IS NOT NULL OR started_at IS NOT NULL)`;

/** True when the session had a call (the JavaScript twin of {@linkcode STARTED_SQL}). */
export function isStarted(s: Pick<SessionRow, "status" | "callId" | "startedAt">): boolean {
  return s.status === "live" || s.callId !== null || s.startedAt !== null;
}

/** The bounds of the active window at `now` (the args of {@linkcode ACTIVE_SESSION_SQL}). */
export interface ActiveWindow {
  /** Sessions created before this (unix ms) are past the longest session: never active. */
  since: number;
  /** Never-started sessions created before this are past their start-by time: not active. */
  pendingSince: number;
}

/** Which sessions count as active at `now`. */
export function activeWindow(config: PolicyConfig, now: number): ActiveWindow {
  return {
    since: now - config.limits.maxSessionSeconds * 1000,
    pendingSince: now - startWindowSeconds(config) * 1000,
  };
}

/**
 * Sessions that may still be running (args: `since`, `pendingSince` of {@linkcode activeWindow}):
 * pending or live, within the longest session, and either started or still within their start-by
 * time. Written so SQLite plans it as one range over the `(status, created_at)` index.
 */
export const ACTIVE_SESSION_SQL = `status IN ('live', 'pending') AND created_at >= ?
  AND (${STARTED_SQL} OR created_at >= ?)`;

/**
 * True when a session that never had a call is past its start-by time: it no longer counts as
 * active ({@linkcode ACTIVE_SESSION_SQL}), so starting a call on it now would bring back a session
 * the caps never weighed; the routes answer "start again" instead.
 */
export function missedStartBy(
  session: Pick<SessionRow, "createdAt" | "startedAt" | "callId"> & {
    status?: SessionRow["status"];
  },
  config: PolicyConfig,
  now: number,
): boolean {
  const started = isStarted({ status: session.status ?? "pending", ...session });
  return !started && session.createdAt < activeWindow(config, now).pendingSince;
}

/** True while an ended session may still be continued on a new call. */
export function withinContinueWindow(endedAt: number | null, now: number): boolean {
  return endedAt !== null && now - endedAt <= CONTINUE_WINDOW_MS;
}

/** How long retention keeps a never-started row after it was minted: start-by plus a grace. */
export function unstartedKeepMs(config: Pick<Config, "ephemeralKeyTtlSeconds">): number {
  return startWindowSeconds(config) * 1000 + UNSTARTED_GRACE_MS;
}

/**
 * Unix ms until which a call of a session started at `startedAt` may run: the server hangs up
 * at `MAX_SESSION_SECONDS` from the session's first call, whichever call it is on.
 */
export function sessionEndsAt(config: PolicyConfig, startedAt: number): number {
  return startedAt + config.limits.maxSessionSeconds * 1000;
}

/**
 * The mint limits on requests: counts each session mint against the Store limits
 * (`limits.ts`) and answers 429 with `Retry-After` when one is reached.
 *
 * Optimistic admission: counting is a Store round trip (an HTTP request on Val Town), so a route
 * that opts in starts the upstream mint first and asks for the decision while it is in flight
 * ({@linkcode mintAdmissionOf}); it hands out the key only when admitted, and a refused mint's key
 * is dropped unused (it expires on its own). So that a client over a limit cannot make each refused
 * request cost an upstream call, a refusal makes this process decide BEFORE minting for that client
 * (or for everyone, when a global cap refused) until the refusal's wait is over, at most a minute.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import type { Logger } from "../deps.ts";
import { apiError } from "../api_errors.ts";
import type { Config } from "../config.ts";
import type { AdmitWrite, MintAdmit, NewSession, SessionRow, Store } from "../store/types.ts";
import { secondsToWindowEnd } from "./windows.ts";
import { clientIp, clientKey } from "./client_ip.ts";
import { DAY_MS, MINUTE_MS, type Refusal, spendRefusalFrom } from "./limits.ts";
import { activeWindow, sessionEndsAt } from "../session_policy.ts";

/** Context variable holding the caller's pseudonymous client key (see {@linkcode clientKeyOf}). */
export const CLIENT_KEY_VAR = "clientKey";
const ADMISSION_VAR = "mintAdmission";

type Vars = { Variables: { clientKey?: string; mintAdmission?: MintAdmission } };

/** The caller's client key set by {@linkcode mintLimits}, for `store.createSession({clientKey})`. */
export function clientKeyOf(c: Context): string | null {
  const v = (c as Context<Vars>).get(CLIENT_KEY_VAR);
  return typeof v === "string" ? v : null;
}

/** One mint's admission, set by {@linkcode mintLimits} on mint paths. */
export interface MintAdmission {
  /** True when the route may start the upstream mint before {@linkcode MintAdmission.decide}. */
  readonly optimistic: boolean;
  /** Unix ms of the decision: an admitted row's `createdAt`. */
  readonly now: number;
  /**
   * Counts this mint and decides, once (later calls share the answer). Null: admitted. `calls`:
   * the live calls the session will hold (1 + its translation languages; default 1), each counted
   * as a mint and as a live call against the concurrency caps.
   */
  decide(options?: { calls?: number }): Promise<Refusal | null>;
  /**
   * Like {@linkcode MintAdmission.decide}, and when admitted the session row is inserted in the
   * same atomic Store step as the decision, so parallel mints cannot overshoot a cap. The row's
   * `calls` (default 1) is its weight, exactly as `decide({calls})` would count it.
   */
  admit(session: NewSession & { id: string }): Promise<Refusal | null>;
}

/** The admission of this request's mint, or null outside a mint path. */
export function mintAdmissionOf(c: Context): MintAdmission | null {
  return (c as Context<Vars>).get(ADMISSION_VAR) ?? null;
}

/** The 429 answer for a refusal. */
export function refusalResponse(refusal: Refusal): Response {
  return apiError(429, refusal.code, refusal.message, {
    headers: { "Retry-After": String(refusal.retryAfter) },
  });
}

/**
 * Recent refusals in this process: while one holds, mints of that client (or everyone's, for a
 * global cap) are decided before they start. Bounded; entries end after at most `holdMs`.
 */
export class RefusalMemory {
  #clients = new Map<string, number>();
  #allUntil = 0;
  #maxClients: number;
  #holdMs: number;

  constructor(options: { maxClients?: number; holdMs?: number } = {}) {
    this.#maxClients = options.maxClients ?? 10_000;
    this.#holdMs = options.holdMs ?? MINUTE_MS;
  }

  /** Notes a refusal of `clientKey` at `now`. */
  remember(refusal: Refusal, clientKey: string, now: number): void {
    const until = now + Math.min(refusal.retryAfter * 1000, this.#holdMs);
    if (refusal.scope === "all") {
      this.#allUntil = Math.max(this.#allUntil, until);
      return;
    }
    if (this.#clients.size >= this.#maxClients) this.#clients.clear();
    this.#clients.set(clientKey, until);
  }

  /** True while a refusal of this client, or of everyone, still holds. */
  holds(clientKey: string, now: number): boolean {
    if (now < this.#allUntil) return true;
    const until = this.#clients.get(clientKey);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#clients.delete(clientKey);
    return false;
  }
}

/** Options for {@linkcode mintLimits}. */
export interface MintLimitsOptions {
  config: Pick<Config, "limits" | "platform" | "signingSecret" | "ephemeralKeyTtlSeconds">;
  store: Store;
  /** Exact paths whose POST creates an upstream session, e.g. `["/api/session"]`. */
  paths: string[];
  /**
   * The routes on `paths` ask for the decision themselves, after starting the upstream mint (see
   * the module doc). Default false: the decision is made before the route runs.
   */
  optimistic?: boolean;
  /** Told when an optimistic route answered without asking for admission (a bug). */
  log?: Logger;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Counts one mint of `key` and decides. Order: the client's mints per minute, everyone's, then the
 * spend caps ({@linkcode spendRefusalFrom}). With `write`, the admission (a new row, or a
 * continuation's release) is written in the same atomic Store step when admitted. One Store call
 * when the Store has `tallyMint`.
 */
async function decideMint(
  store: Store,
  config: MintLimitsOptions["config"],
  key: string,
  now: number,
  opts: { write?: AdmitWrite; rateOnly?: boolean; calls?: number } = {},
): Promise<Refusal | null> {
  const { limits } = config;
  const wait = secondsToWindowEnd(MINUTE_MS, now);
  const rateLimited = (scope: Refusal["scope"]): Refusal => ({
    code: "rate_limited",
    message: scope === "client"
      ? `Too many sessions started from your address; try again in ${wait} s`
      : `This app is busy; try again in ${wait} s`,
    retryAfter: wait,
    scope,
  });
  const { write, rateOnly = false } = opts;
  const window = activeWindow(config, now);
  // A mint counts once per live call it starts (1 + translation languages for a new session).
  const calls = Math.max(1, Math.floor(opts.calls ?? 1));
  const adds = write?.adds ?? calls;
  const t = await store.tallyMint({
    now,
    mintWindowMs: MINUTE_MS,
    mints: { mine: `mints:${key}`, all: "mints:*", mineLimit: limits.mintsPerMinutePerIp },
    usageWindowMs: DAY_MS,
    usage: { mine: `usage-seconds:${key}`, all: "usage-seconds:*" },
    active: { clientKey: key, ...window },
    calls,
    admit: write && {
      ...write,
      caps: {
        mintsMine: limits.mintsPerMinutePerIp,
        mintsAll: limits.mintsPerMinute,
        activeMine: limits.concurrentSessionsPerIp,
        activeAll: limits.concurrentSessions,
        usedMine: limits.dailyMinutesPerIp * 60,
        usedAll: limits.dailyMinutes * 60,
      },
    } as MintAdmit,
  });
  if (t.mintsMine > limits.mintsPerMinutePerIp) return rateLimited("client");
  if ((t.mintsAll ?? 0) > limits.mintsPerMinute) return rateLimited("all");
  if (rateOnly) return null;
  const refusal = spendRefusalFrom(t, limits, now, adds);
  if (refusal || !write || t.admitted) return refusal;
  // Within every cap but not written: the session changed under the continuation.
  return {
    code: "too_many_sessions",
    message: "This session changed meanwhile; try again",
    retryAfter: 1,
    scope: "client",
  };
}

/**
 * Counts every mint on `paths` against the limits and refuses ones over a limit with a 429; sets
 * the client key and the {@linkcode MintAdmission} for the route.
 *
 * @example
 * ```ts
 * app.use(mintLimits({ config, store, paths: ["/api/session"] }));
 * ```
 */
export function mintLimits(options: MintLimitsOptions): MiddlewareHandler {
  const clock = options.now ?? Date.now;
  const { config, store } = options;
  const memory = new RefusalMemory();
  return async function mintLimitsMiddleware(c, next) {
    if (c.req.method !== "POST" || !options.paths.includes(c.req.path)) {
      return await next();
    }
    const now = clock();
    const key = await clientKey(config.signingSecret, clientIp(c, { platform: config.platform }));
    let decided: Promise<Refusal | null> | null = null;
    const run = (opts: { write?: AdmitWrite; calls?: number }) =>
      decided ??= decideMint(store, config, key, now, opts).then((refusal) => {
        if (refusal) memory.remember(refusal, key, now);
        return refusal;
      });
    const decide = (opts: { calls?: number } = {}) => run({ calls: opts.calls });
    // The row carries its weight (`calls`): it is counted as that many mints and live calls.
    const admit = (session: NewSession & { id: string }) => {
      const calls = Math.max(1, Math.floor(session.calls ?? 1));
      return run({
        calls,
        write: { kind: "create", adds: calls, session: { ...session, calls, clientKey: key } },
      });
    };
    const optimistic = options.optimistic === true && !memory.holds(key, now);
    const vars = c as Context<Vars>;
    vars.set(CLIENT_KEY_VAR, key);
    vars.set(ADMISSION_VAR, { optimistic, now, decide, admit });
    // Routes that admit themselves (`optimistic` option) are never decided for in advance: their
    // decision must write their row; when not `optimistic` now, they admit before minting.
    if (options.optimistic !== true) {
      const refusal = await decide();
      if (refusal) return refusalResponse(refusal);
      return await next();
    }
    await next();
    // Safety net: a route that never asked is decided now, and a refused mint's answer (which may
    // hold a key) is replaced, so no key ever reaches a refused client.
    const asked = decided !== null;
    const refusal = await decide();
    if (!asked && c.res.ok) {
      options.log?.("error", "A mint route answered without asking for admission", {
        path: c.req.path,
      });
    }
    if (refusal && c.res.ok) {
      // Unset first: Hono's setter would carry the refused answer's headers over.
      c.res = undefined;
      c.res = refusalResponse(refusal);
    }
  };
}

/**
 * Admits the next call of a session already counted (`POST /api/session/:id/continue`) as what it
 * is, a live call: it counts against the mint rate, the concurrency caps and today's minutes like
 * a new session, and is decided and written (the session released for its next call) in one atomic
 * Store step. A session that still has a call keeps it running through a rotation, so that call
 * holds an extra slot until it ends (`Store.releaseCall`) or the session's time is up; a session
 * whose call already ended takes its slot back; one still waiting for its call reuses its slot.
 */
export async function admitContinuation(
  c: Context,
  options: Pick<MintLimitsOptions, "config" | "store" | "now"> & {
    session: Pick<SessionRow, "id" | "status" | "callId" | "startedAt" | "createdAt">;
  },
): Promise<Refusal | null> {
  const { config, session } = options;
  const now = (options.now ?? Date.now)();
  const key = await clientKey(config.signingSecret, clientIp(c, { platform: config.platform }));
  const ended = session.status === "ended" || session.status === "failed";
  const startedAt = session.startedAt ?? session.createdAt;
  const running = !ended && session.callId !== null;
  const hold = running
    ? { callId: session.callId!, untilMs: sessionEndsAt(config, startedAt) }
    : null;
  // An ended session comes back with its whole weight (1 + its translation languages: the page
  // re-opens those calls too); a running call left over by a rotation holds one extra slot (the
  // transcription call; translation calls are not rotated); pending without a call: its slot (as a
  // started, or a still-startable, session) is reused. The key minted here counts as one mint.
  const weight = ended ? Math.max(1, await options.store.sessionCalls(session.id)) : 1;
  const adds = ended ? weight : running ? 1 : 0;
  return await decideMint(options.store, config, key, now, {
    write: { kind: "continue", adds, sessionId: session.id, startedAt, hold },
  });
}

/**
 * Counts a key that starts no new session against the per-minute mint limits only: a translation
 * call of a session already admitted (`POST /api/calls/translation`). Its concurrency and minutes
 * were counted with the session's weight, but every key can start a call, so keys are never
 * unmetered.
 */
export async function relayMintRefusal(
  c: Context,
  options: Pick<MintLimitsOptions, "config" | "store" | "now">,
): Promise<Refusal | null> {
  const { config } = options;
  const key = await clientKey(config.signingSecret, clientIp(c, { platform: config.platform }));
  return await decideMint(options.store, config, key, (options.now ?? Date.now)(), {
    rateOnly: true,
  });
}

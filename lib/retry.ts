/**
 * Retries with exponential backoff and full jitter, aware of `Retry-After`, for operations that
 * are safe to repeat. {@linkcode withRetries} wraps the OpenAI REST client so that transient
 * upstream failures (429, 5xx, an unreachable host) are retried only where a repeat cannot do
 * harm; everything else fails at once with the client's clear {@linkcode UpstreamError}.
 *
 * @module
 */
import { backoffDelay as sharedBackoffDelay, retryAfterMs } from "../shared/backoff.js";
import { type UpstreamClient, UpstreamError } from "./upstream.ts";

/** Backoff parameters shared by {@linkcode backoffDelay} and {@linkcode retry}. */
export interface BackoffOptions {
  /** Delay cap before jitter for the first retry, ms (default 250). */
  baseDelayMs?: number;
  /** Largest delay before jitter, ms (default 4000). */
  maxDelayMs?: number;
  /** Random source in [0, 1) (default `Math.random`; tests pass a fixed one). */
  random?: () => number;
}

/**
 * "Full jitter" backoff: a uniformly random delay in `[0, min(max, base · 2^attempt))`.
 * `attempt` counts retries from 0. The page retries with the same timing, so the formula lives
 * in `shared/backoff.js`; this maps the server's option names onto it.
 *
 * @example
 * ```ts
 * backoffDelay(2, { baseDelayMs: 100, random: () => 0.5 }); // 200
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
): number {
  return sharedBackoffDelay(attempt, {
    baseMs: options.baseDelayMs,
    maxMs: options.maxDelayMs,
    random: options.random,
  });
}

/**
 * Reads a `Retry-After` value (delta seconds or an HTTP date) as milliseconds from `now`;
 * null when absent or unreadable. Never negative. (`shared/backoff.js`, as the page reads it.)
 */
export const parseRetryAfter: (
  value: string | null | undefined,
  now?: number,
) => number | null = retryAfterMs;

/** What {@linkcode RetryOptions.shouldRetry} decides about one failure. */
export type RetryDecision =
  | false
  /** Retry after the usual backoff. */
  | true
  /** Retry, waiting at least this long (e.g. the server's `Retry-After`). */
  | { afterMs: number };

/** Options for {@linkcode retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Total attempts including the first (default 3). */
  attempts?: number;
  /** Which failures may be retried; default: none (the error is rethrown). */
  shouldRetry?: (error: unknown, attempt: number) => RetryDecision;
  /** A server-asked wait longer than this is not retried here: the error goes to the caller. */
  maxRetryAfterMs?: number;
  /** Told before each wait (for logs). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Stops waiting and rethrows the last error. */
  signal?: AbortSignal;
  /** Waits `ms` (tests may pass a fake clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, `shouldRetry` says no, or the attempts are used up; rethrows the
 * last error. Only use it for operations that are safe to repeat.
 *
 * @example
 * ```ts
 * const body = await retry(() => fetchJson(url), {
 *   attempts: 4,
 *   shouldRetry: (err) => err instanceof TypeError,
 * });
 * ```
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const wait = options.sleep ?? sleep;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
  for (let attempt = 0;; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= attempts || options.signal?.aborted) throw error;
      const decision = options.shouldRetry?.(error, attempt) ?? false;
      if (decision === false) throw error;
      const jittered = backoffDelay(attempt, options);
      let delayMs = jittered;
      if (typeof decision === "object") {
        if (decision.afterMs > maxRetryAfterMs) throw error;
        delayMs = Math.max(decision.afterMs, jittered);
      }
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      try {
        await wait(delayMs, options.signal);
      } catch {
        throw error;
      }
    }
  }
}

/** The REST operations {@linkcode withRetries} knows how to judge. */
export type UpstreamOperation =
  | "createClientSecret"
  | "createCall"
  | "hangup"
  | "acceptCall"
  | "rejectCall";

/**
 * Whether an upstream failure of `operation` may be retried, and after how long.
 *
 * - Minting a key and hanging up are safe to repeat: a key minted by a lost answer is never
 *   used and expires on its own; a second hang-up answers 404 (treated as "already ended").
 *   They are retried on 429, any 5xx, and network failures.
 * - Creating a call and call control are not idempotent (a 500 may have created the call), so
 *   only answers that mean "not processed" are retried: 429 and 503.
 * - 4xx other than 429 are never retried: the request itself is wrong.
 */
export function upstreamRetryDecision(
  operation: UpstreamOperation,
  error: unknown,
): RetryDecision {
  if (!(error instanceof UpstreamError)) return false;
  const status = error.upstreamStatus;
  const wait = parseRetryAfter(error.retryAfter);
  const after = (d: RetryDecision): RetryDecision =>
    d !== false && wait !== null ? { afterMs: wait } : d;
  const safe = operation === "createClientSecret" || operation === "hangup";
  if (status === 429 || status === 503) return after(true);
  if (safe && status !== null && status >= 500) return true;
  if (
    safe && status === null &&
    (error.code === "upstream_unreachable" || error.code === "upstream_timeout")
  ) return true;
  return false;
}

/** Options for {@linkcode withRetries}. */
export interface WithRetriesOptions extends BackoffOptions {
  /** Total attempts per operation (default 2: one retry keeps Start fast). */
  attempts?: number;
  /** Longest `Retry-After` waited for here (default 5 s); longer ones go back to the page. */
  maxRetryAfterMs?: number;
  /** Told about each retry (never receives secrets: only the operation and our error code). */
  log?: (
    level: "info" | "warn",
    message: string,
    fields: Record<string, unknown>,
  ) => void;
  sleep?: RetryOptions["sleep"];
}

/**
 * Wraps an {@linkcode UpstreamClient} so each operation is retried per
 * {@linkcode upstreamRetryDecision}. The last failure is thrown unchanged, so routes still map
 * it to a clear JSON error (429 keeps `Retry-After`).
 */
export function withRetries(
  upstream: UpstreamClient,
  options: WithRetriesOptions = {},
): UpstreamClient {
  const run = <T>(
    operation: UpstreamOperation,
    fn: () => Promise<T>,
  ): Promise<T> =>
    retry(fn, {
      attempts: options.attempts ?? 2,
      baseDelayMs: options.baseDelayMs ?? 250,
      maxDelayMs: options.maxDelayMs ?? 2000,
      random: options.random,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 5000,
      sleep: options.sleep,
      shouldRetry: (error) => upstreamRetryDecision(operation, error),
      onRetry: ({ attempt, delayMs, error }) =>
        options.log?.("warn", "Retrying an upstream request", {
          operation,
          attempt,
          delayMs,
          code: (error as UpstreamError).code,
          upstreamStatus: (error as UpstreamError).upstreamStatus,
        }),
    });
  return {
    ...upstream,
    createClientSecret: (session, opts) =>
      run("createClientSecret", () => upstream.createClientSecret(session, opts)),
    createCall: (opts) => run("createCall", () => upstream.createCall(opts)),
    hangup: (callId) => run("hangup", () => upstream.hangup(callId)),
    acceptCall: (callId, session) => run("acceptCall", () => upstream.acceptCall(callId, session)),
    rejectCall: (callId, status) => run("rejectCall", () => upstream.rejectCall(callId, status)),
  };
}

/**
 * Fixed time windows, as the Store's counters use them: a window of `windowMs` starts at every
 * multiple of `windowMs` since the epoch, so every process agrees on it without talking. The mint
 * limits (per minute, per day) and the sign-in throttle count per window.
 *
 * @module
 */

/** Seconds until the fixed window containing `now` ends (at least 1): a `Retry-After` value. */
export function secondsToWindowEnd(windowMs: number, now = Date.now()): number {
  return Math.max(1, Math.ceil((windowMs - (now % windowMs)) / 1000));
}

// @ts-check
/**
 * Retry timing shared by the page and the server: full-jitter exponential backoff and the
 * `Retry-After` header. Plain ES module, no imports, so both sides load the same file.
 *
 * @module
 */

/**
 * @typedef {object} BackoffOptions
 * @property {number} [baseMs] Delay cap before jitter for the first retry, ms (default 250).
 * @property {number} [maxMs] Largest delay before jitter, ms (default 4000).
 * @property {() => number} [random] Random source in [0, 1) (default `Math.random`).
 */

/**
 * "Full jitter" backoff: a uniformly random delay in `[0, min(maxMs, baseMs · 2^attempt))`, so
 * many clients retrying after one outage spread out instead of arriving together.
 *
 * @example
 * ```js
 * backoffDelay(2, { baseMs: 100, random: () => 0.5 }); // 200
 * ```
 * @param {number} attempt Retries so far (0 for the first retry).
 * @param {BackoffOptions} [options]
 * @returns {number}
 */
export function backoffDelay(attempt, options = {}) {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 4000;
  const random = options.random ?? Math.random;
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.floor(random() * cap);
}

/**
 * A `Retry-After` value (delta seconds or an HTTP date) as milliseconds from `now`; null when
 * absent or unreadable. Never negative.
 *
 * @param {string | null | undefined} value
 * @param {number} [now] Epoch ms the delay is measured from (default `Date.now()`).
 * @returns {number | null}
 */
export function retryAfterMs(value, now = Date.now()) {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === "") return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date always names its weekday and month; this keeps "-1" from parsing as a year.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

// @ts-check
/**
 * The page's clock, injectable: `performance.now()` (the time base of the page's audio and speech
 * edges) and the timers. Tests pass a manual clock instead.
 *
 * @module
 */

/**
 * @typedef {object} Clock
 * @property {() => number} now ms, as `performance.now()`
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(fn: () => void, ms: number) => unknown} setInterval
 * @property {(id: unknown) => void} clearInterval
 */

/**
 * The browser's (or Deno's) own clock.
 * @returns {Clock}
 */
export function pageClock() {
  return {
    now: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(/** @type {number} */ (id)),
  };
}

/**
 * Resolves after `ms` on `clock`.
 * @param {Clock} clock
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function sleep(clock, ms) {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

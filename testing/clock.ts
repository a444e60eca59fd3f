/**
 * Real-clock helpers for tests that count against the Store's fixed-window limits.
 *
 * @module
 */

/**
 * Waits, when needed, until the next `marginMs` lie inside one fixed window of `windowMs` (the
 * Store's counters: a minute for mints, 15 minutes for sign-in attempts). Tests that count against
 * those limits with the real clock would otherwise see the window reset midway.
 */
export async function insideOneWindow(windowMs = 60_000, marginMs = 8_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}

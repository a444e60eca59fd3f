// @ts-check
/**
 * The page's clock format (`m:ss`), apart from the export formats (`formats.js`, which re-exports
 * it) so that the page loads those only on first Copy or Export. Plain ES module, no imports.
 *
 * @module
 */

const two = (/** @type {number} */ n) => String(n).padStart(2, "0");

/**
 * Formats milliseconds as `m:ss` (or `h:mm:ss` past an hour) for display.
 *
 * @param {number|null} ms
 */
export function formatClock(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–:––";
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor(t / 60) % 60;
  const s = t % 60;
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

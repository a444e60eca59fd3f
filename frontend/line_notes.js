// @ts-check
/**
 * What a caption line says about its confidence, in words as well as looks: a low-confidence line
 * is underlined (by CSS on `.conf-low`) and carries "low confidence" as text, visible beside the
 * line's time and, for screen readers, right after its words (the time row is hidden in caption
 * mode); a final line whose model sent no logprobs says "no confidence reported" instead of
 * implying one. Works on the `<li>` a `TranscriptView` (`view.js`) drew, without touching the
 * parts that view rewrites.
 *
 * @module
 */

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/** Below this mean token probability a line counts as low confidence (as `view.js` colours it). */
export const LOW_CONFIDENCE = 0.6;

/**
 * The words for a line's confidence, or "" when there is nothing to say (a confident line, or a
 * line that is not final yet).
 *
 * @param {Pick<Utterance, "status" | "confidence">} u
 * @returns {"" | "low confidence" | "no confidence reported"}
 */
export function confidenceWords(u) {
  if (u.status !== "final") return "";
  if (u.confidence === null || !Number.isFinite(u.confidence)) return "no confidence reported";
  return u.confidence < LOW_CONFIDENCE ? "low confidence" : "";
}

/**
 * Finds or makes the child of `parent` with class `name`.
 *
 * @param {Element} parent
 * @param {string} tag
 * @param {string} name
 */
function part(parent, tag, name) {
  let node = parent.querySelector(`:scope > .${name}`);
  if (!node) {
    node = document.createElement(tag);
    node.className = name;
    parent.append(node);
  }
  return /** @type {HTMLElement} */ (node);
}

/**
 * Writes the confidence words onto one drawn line.
 *
 * @param {HTMLElement} li the line (`li[data-item-id]`)
 * @param {Pick<Utterance, "status" | "confidence">} u
 */
export function noteConfidence(li, u) {
  const words = confidenceWords(u);
  const meta = li.querySelector(".meta") ?? li;
  const shown = part(meta, "span", "conf");
  shown.textContent = words;
  // Screen readers hear the spoken-order copy below, once.
  shown.setAttribute("aria-hidden", "true");
  const spoken = part(li, "span", "conf-sr");
  spoken.classList.add("sr-only");
  spoken.textContent = words ? ` (${words})` : "";
}

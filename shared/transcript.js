// @ts-check
/**
 * The transcript fold, shared by the page (served at `/shared/transcript.js`) and the server (the
 * Store folds sideband events with it). Plain ES module, no imports, no platform APIs.
 *
 * One {@linkcode Utterance} per committed input audio item, keyed by `item_id`. Events for
 * different items may arrive interleaved and `completed` events out of order; the spoken order
 * comes from the `previous_item_id` links of `input_audio_buffer.committed`.
 *
 * Every operation is idempotent: applying the same event twice yields the same utterance. Deltas
 * are the only additive operation, so the ids of applied deltas are remembered in `deltaIds`.
 *
 * @module
 */

/**
 * One utterance as the page and the server see it.
 *
 * - `status`: `pending` (speech or commit seen, no text yet), `partial` (deltas streaming),
 *   `final` (completed; text is the model's final transcript), `failed` (transcription failed).
 * - `startMs` / `endMs`: audio times from `speech_started` / `speech_stopped` (or
 *   `timeout_triggered`) plus the fold's `offsetMs`; null when the model or VAD mode does not
 *   report them. Each call's audio clock starts at 0, so a session that moved to a new call passes
 *   that call's offset (see {@linkcode FoldOptions}) to keep the times session-relative.
 * - `confidence`: mean token probability (0..1) from the `completed` logprobs, or null.
 * - `languages`: detected language codes from `completed` (e.g. `["en"]`), or null.
 * - `committed`: true once the item is known to be in the input buffer's linked list.
 * - `deltaIds`: event ids of the deltas already applied (for idempotency); optional.
 *
 * @typedef {{
 *   itemId: string,
 *   previousItemId: string|null,
 *   status: "pending"|"partial"|"final"|"failed",
 *   text: string,
 *   startMs: number|null,
 *   endMs: number|null,
 *   confidence: number|null,
 *   error: string|null,
 *   languages: string[]|null,
 *   committed: boolean,
 *   deltaIds?: string[],
 * }} Utterance
 */

/** @typedef {Record<string, unknown>} ServerEvent */

/**
 * How to fold an event. `offsetMs` is added to the event's `audio_start_ms` / `audio_end_ms`: the
 * time at which the event's call began, relative to the session's first call (0 for that call).
 *
 * @typedef {{ offsetMs?: number }} FoldOptions
 */

const PREFIX = "conversation.item.input_audio_transcription.";

/**
 * The item id an event concerns (`item_id`, or `item.id` for `conversation.item.*`), or null.
 *
 * @param {unknown} event a server event
 * @returns {string|null}
 */
export function itemIdOf(event) {
  if (!isObject(event)) return null;
  if (typeof event.item_id === "string" && event.item_id) return event.item_id;
  const item = event.item;
  if (isObject(item) && typeof item.id === "string" && item.id) return item.id;
  return null;
}

/**
 * Mean of `exp(logprob)` over the tokens, in 0..1, or null when there are none.
 *
 * @param {unknown} logprobs `[{ token, logprob, bytes }]` from a delta or completed event
 * @returns {number|null}
 */
export function confidenceFromLogprobs(logprobs) {
  if (!Array.isArray(logprobs)) return null;
  let sum = 0;
  let n = 0;
  for (const entry of logprobs) {
    const lp = isObject(entry) ? entry.logprob : undefined;
    if (typeof lp !== "number" || Number.isNaN(lp)) continue;
    sum += Math.min(1, Math.max(0, Math.exp(lp)));
    n++;
  }
  return n === 0 ? null : sum / n;
}

/**
 * Folds one server event into the utterance it concerns. Pure: `prev` is not modified.
 *
 * @param {Utterance|undefined} prev the utterance so far, or undefined if none yet
 * @param {unknown} event one server event
 * @param {FoldOptions} [options]
 * @returns {Utterance|undefined} the new utterance, or undefined when the event does not concern
 *   an utterance (session events, errors, unknown types)
 */
export function reduceUtterance(prev, event, options = {}) {
  const itemId = itemIdOf(event);
  if (!itemId || !isObject(event) || typeof event.type !== "string") {
    return undefined;
  }
  if (prev && prev.itemId !== itemId) return undefined;
  /** @type {Utterance} */
  const u = prev ? { ...prev } : blank(itemId);
  const type = event.type;
  const offset = numberOr(options.offsetMs, 0) ?? 0;
  /** @param {unknown} v */
  const at = (v) => {
    const ms = numberOr(v, null);
    return ms === null ? null : ms + offset;
  };
  switch (type) {
    case "input_audio_buffer.speech_started":
      u.startMs = at(event.audio_start_ms) ?? u.startMs;
      return u;
    case "input_audio_buffer.speech_stopped":
      u.endMs = at(event.audio_end_ms) ?? u.endMs;
      return u;
    case "input_audio_buffer.timeout_triggered":
      u.startMs = u.startMs ?? at(event.audio_start_ms);
      u.endMs = at(event.audio_end_ms) ?? u.endMs;
      return u;
    case "input_audio_buffer.committed":
      u.previousItemId = stringOrNull(event.previous_item_id);
      u.committed = true;
      return u;
    case "conversation.item.added":
    case "conversation.item.created":
    case "conversation.item.done":
      return foldItem(u, event);
    case PREFIX + "delta":
      return foldDelta(u, event);
    case PREFIX + "completed": {
      // The final transcript replaces whatever the deltas built; a later duplicate is a no-op.
      u.status = "final";
      u.text = typeof event.transcript === "string" ? event.transcript : u.text;
      u.confidence = confidenceFromLogprobs(event.logprobs) ?? u.confidence;
      u.languages = languagesOf(event.languages) ?? u.languages;
      u.error = null;
      delete u.deltaIds;
      return u;
    }
    case PREFIX + "failed": {
      if (u.status === "final") return u; // a final transcript is never downgraded
      u.status = "failed";
      const err = isObject(event.error) ? event.error : {};
      u.error = typeof err.message === "string" && err.message
        ? err.message
        : typeof err.code === "string" && err.code
        ? err.code
        : "Transcription failed";
      return u;
    }
    default:
      return undefined;
  }
}

/**
 * @param {Utterance} u
 * @param {ServerEvent} event
 * @returns {Utterance|undefined}
 */
function foldItem(u, event) {
  const item = /** @type {ServerEvent} */ (event.item);
  const content = Array.isArray(item.content) ? item.content : [];
  const audio = content.find((c) => isObject(c) && c.type === "input_audio");
  // Only user audio items are utterances (realtime sessions also carry assistant messages).
  if (content.length > 0 && !audio) return undefined;
  if ("previous_item_id" in event && !u.committed) {
    u.previousItemId = stringOrNull(event.previous_item_id);
    u.committed = true;
  }
  const transcript = isObject(audio) ? audio.transcript : null;
  if (typeof transcript === "string" && transcript && u.status !== "final") {
    u.text = transcript;
    u.status = "final";
    delete u.deltaIds;
  }
  return u;
}

/**
 * @param {Utterance} u
 * @param {ServerEvent} event
 * @returns {Utterance}
 */
function foldDelta(u, event) {
  // Deltas after the final transcript (or a failure) change nothing.
  if (u.status === "final" || u.status === "failed") return u;
  const delta = typeof event.delta === "string" ? event.delta : "";
  const id = typeof event.event_id === "string" ? event.event_id : null;
  if (id && u.deltaIds?.includes(id)) return u;
  u.text += delta;
  u.status = "partial";
  if (id) u.deltaIds = [...(u.deltaIds ?? []), id];
  return u;
}

/**
 * Orders utterances in spoken order: follows the `previousItemId` linked list from the first item
 * (`previousItemId: null`); fragments whose head links to an unknown item, and uncommitted items,
 * come after, by `startMs` (unknown times last, then by input order).
 *
 * @param {Iterable<Utterance>} utterances
 * @returns {Utterance[]}
 */
export function orderUtterances(utterances) {
  const all = [...utterances];
  const byId = new Map(all.map((u) => [u.itemId, u]));
  const index = new Map(all.map((u, i) => [u.itemId, i]));
  /** @type {Map<string, Utterance[]>} */
  const next = new Map();
  /** @type {Utterance[]} */
  const heads = [];
  for (const u of all) {
    const prev = u.committed ? u.previousItemId : null;
    if (u.committed && prev && byId.has(prev) && prev !== u.itemId) {
      const list = next.get(prev) ?? [];
      list.push(u);
      next.set(prev, list);
    } else {
      heads.push(u);
    }
  }
  /** @param {Utterance} a @param {Utterance} b */
  const byTime = (a, b) =>
    (a.startMs ?? Infinity) - (b.startMs ?? Infinity) ||
    (index.get(a.itemId) ?? 0) - (index.get(b.itemId) ?? 0);
  /** @param {Utterance} u */
  const rank = (u) => (u.committed && u.previousItemId === null ? 0 : 1);
  // Each call's first turn has previous_item_id null (a session that moved to a new call has
  // several); their times are only as good as the call offset's estimate (or restart at 0 when
  // folded without one), so those heads keep the order they were first seen in.
  heads.sort((a, b) =>
    rank(a) - rank(b) ||
    (rank(a) === 0 ? (index.get(a.itemId) ?? 0) - (index.get(b.itemId) ?? 0) : byTime(a, b))
  );
  /** @type {Utterance[]} */
  const out = [];
  const seen = new Set();
  /** @param {Utterance} head */
  const walk = (head) => {
    /** @type {Utterance[]} */
    const stack = [head];
    while (stack.length > 0) {
      const u = /** @type {Utterance} */ (stack.pop());
      if (seen.has(u.itemId)) continue;
      seen.add(u.itemId);
      out.push(u);
      const children = [...(next.get(u.itemId) ?? [])].sort(byTime);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  };
  for (const head of heads) walk(head);
  // Anything left sits on a cycle of links (malformed input): append by time.
  for (const u of all.filter((u) => !seen.has(u.itemId)).sort(byTime)) walk(u);
  return out;
}

/**
 * A live transcript: folds events into utterances and lists them in spoken order.
 *
 * @example
 * ```js
 * const t = new Transcript();
 * channel.onmessage = (m) => { const u = t.apply(JSON.parse(m.data)); if (u) render(u); };
 * ```
 */
export class Transcript {
  /** @type {Map<string, Utterance>} */
  #items = new Map();
  /** @type {Utterance[]|null} */
  #ordered = null;

  /**
   * Applies one server event.
   *
   * @param {unknown} event
   * @returns {Utterance|undefined} the utterance if the event changed it, else undefined
   */
  apply(event) {
    const id = itemIdOf(event);
    if (!id) return undefined;
    const prev = this.#items.get(id);
    const next = reduceUtterance(prev, event);
    if (!next || (prev && sameUtterance(prev, next))) return undefined;
    this.#items.set(id, next);
    this.#ordered = null;
    return next;
  }

  /**
   * Utterances in spoken order.
   *
   * @returns {Utterance[]}
   */
  list() {
    this.#ordered ??= orderUtterances(this.#items.values());
    return [...this.#ordered];
  }

  /**
   * One utterance by item id.
   *
   * @param {string} itemId
   * @returns {Utterance|undefined}
   */
  get(itemId) {
    return this.#items.get(itemId);
  }

  /** Number of utterances. */
  get size() {
    return this.#items.size;
  }

  /** Forgets every utterance. */
  clear() {
    this.#items.clear();
    this.#ordered = null;
  }
}

/**
 * @param {Utterance} a
 * @param {Utterance} b
 */
function sameUtterance(a, b) {
  return a.previousItemId === b.previousItemId && a.status === b.status &&
    a.text === b.text &&
    a.startMs === b.startMs && a.endMs === b.endMs &&
    a.confidence === b.confidence &&
    a.error === b.error && a.committed === b.committed &&
    String(a.languages) === String(b.languages) &&
    (a.languages === null) === (b.languages === null);
}

/**
 * @param {string} itemId
 * @returns {Utterance}
 */
function blank(itemId) {
  return {
    itemId,
    previousItemId: null,
    status: "pending",
    text: "",
    startMs: null,
    endMs: null,
    confidence: null,
    error: null,
    languages: null,
    committed: false,
  };
}

/**
 * @param {unknown} v
 * @returns {string[]|null}
 */
function languagesOf(v) {
  if (!Array.isArray(v)) return null;
  return v.map((l) => (typeof l === "string" ? l : isObject(l) ? l.code : null))
    .filter((c) => typeof c === "string" && c.length > 0)
    .map((c) => String(c));
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * @param {unknown} v
 * @param {number|null} fallback
 */
function numberOr(v, fallback) {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/** @param {unknown} v */
function stringOrNull(v) {
  return typeof v === "string" && v ? v : null;
}

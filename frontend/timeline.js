// @ts-check
/**
 * Everything the page has heard, on one timeline: the live session's {@linkcode Transcript},
 * earlier sessions' final lines (shifted to follow each other), and page-side facts per line that
 * the events do not carry (latency from speech end to final text, page-VAD times).
 *
 * A session may move to new calls (a lost call, or one near the session limit), and each call's
 * audio clock starts at 0. Lines are tagged with the call that reported them and shifted by that
 * call's offset, the same number the Store adds (`GET /api/sessions/:id` → `calls[].offsetMs`),
 * so the page, its gap-repair posts and the stored transcript share one session clock.
 *
 * @module
 */
import { Transcript } from "../shared/transcript.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/**
 * Page-side facts about one line.
 *
 * @typedef {{ speechEndWall?: number, latencyMs?: number|null, startMs?: number|null,
 *   endMs?: number|null, cutOff?: boolean }} LineFacts
 */

/** The page's transcript across sessions. */
export class Timeline {
  transcript = new Transcript();
  /** Earlier sessions' final lines, already shifted. @type {Utterance[]} */
  archived = [];
  /** Added to the live session's times so they follow the archive. */
  offsetMs = 0;
  /** @type {Map<string, LineFacts>} */
  facts = new Map();
  /** The call each live line came from. @type {Map<string, number>} */
  #callOf = new Map();
  /** Each call's offset on the session's clock. @type {Map<number, number>} */
  #callOffsets = new Map();
  #now;

  /**
   * @param {{ now?: () => number }} [options] `now`: the clock speech ends are measured on
   *   (default `performance.now()`)
   */
  constructor(options = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Records which call reported an item (the first call to mention it keeps it).
   *
   * @param {string} itemId
   * @param {number} call the page's key of the call
   */
  noteCall(itemId, call) {
    if (!this.#callOf.has(itemId)) this.#callOf.set(itemId, call);
  }

  /** @param {string} itemId @returns {number|undefined} */
  callOf(itemId) {
    return this.#callOf.get(itemId);
  }

  /**
   * Sets a call's offset on the session's clock; true when it changed (lines need re-rendering).
   *
   * @param {number} call
   * @param {number} offsetMs
   */
  setCallOffset(call, offsetMs) {
    if (this.#callOffsets.get(call) === offsetMs) return false;
    this.#callOffsets.set(call, offsetMs);
    return true;
  }

  /**
   * A live-session utterance with its times on the session's clock (what the Store holds).
   *
   * @param {Utterance} u
   * @returns {Utterance}
   */
  sessionTimes(u) {
    const call = this.#callOf.get(u.itemId);
    return moved(u, call === undefined ? 0 : this.#callOffsets.get(call) ?? 0);
  }

  /**
   * Shifts an utterance of the live session onto the timeline.
   *
   * @param {Utterance} u
   * @returns {Utterance}
   */
  shifted(u) {
    return moved(this.sessionTimes(u), this.offsetMs);
  }

  /**
   * True while a line of `call` (any call when omitted) still waits for its final text.
   *
   * @param {number} [call]
   */
  pending(call) {
    return this.transcript.list().some((u) =>
      (u.status === "pending" || u.status === "partial") &&
      (call === undefined || this.#callOf.get(u.itemId) === call)
    );
  }

  /**
   * Every line, in order, on one timeline; page-VAD times fill in where the events had none.
   *
   * @returns {Utterance[]}
   */
  all() {
    return [
      ...this.archived,
      ...this.transcript.list().map((u) => this.#placed(u)),
    ];
  }

  /**
   * What the reader sees, as lines for Copy and the exports: final lines, text still streaming
   * as it stands, and lines Stop cut off with their text marked "(cut off)".
   *
   * @returns {Utterance[]}
   */
  shown() {
    return this.all().map((u) => this.#readable(u)).filter((u) => u !== null);
  }

  /** @param {Utterance} u @returns {Utterance|null} */
  #readable(u) {
    if (u.status === "final" || u.status === "failed") return u;
    if (!u.text.trim()) return null;
    const text = this.facts.get(u.itemId)?.cutOff ? `${u.text} (cut off)` : u.text;
    return { ...u, status: "final", text };
  }

  /**
   * Stop gave up waiting for a line's final text: it is kept as it stands, "(cut off)".
   *
   * @param {string} itemId
   */
  cutOff(itemId) {
    this.facts.set(itemId, { ...this.facts.get(itemId), cutOff: true });
  }

  /**
   * @param {Utterance} u
   * @returns {Utterance}
   */
  #placed(u) {
    const f = this.facts.get(u.itemId);
    const s = this.shifted(u);
    // Page-VAD times run on the page's own clock for the whole session: no call offset.
    const shift = (/** @type {number|null|undefined} */ v) =>
      typeof v === "number" ? v + this.offsetMs : null;
    return {
      ...s,
      startMs: s.startMs ?? shift(f?.startMs),
      endMs: s.endMs ?? shift(f?.endMs),
    };
  }

  /**
   * Records when speech ended for an item (and page-VAD times, when the page committed it).
   *
   * @param {string} itemId
   * @param {number} wall `performance.now()` of the end of speech
   * @param {{ startMs: number|null, endMs: number|null }|null} [segment]
   */
  speechEnded(itemId, wall, segment) {
    const f = this.facts.get(itemId) ?? {};
    if (f.speechEndWall !== undefined) return;
    f.speechEndWall = wall;
    if (segment) {
      Object.assign(f, { startMs: segment.startMs, endMs: segment.endMs });
    }
    this.facts.set(itemId, f);
  }

  /** @param {string} itemId */
  hasSpeechEnd(itemId) {
    return this.facts.get(itemId)?.speechEndWall !== undefined;
  }

  /**
   * The facts to render with a line; the first time a line is final, its latency is taken.
   *
   * @param {Utterance} u a live-session utterance (unshifted)
   * @returns {LineFacts}
   */
  factsFor(u) {
    const f = this.facts.get(u.itemId) ?? {};
    if (u.status === "final" && f.latencyMs === undefined) {
      f.latencyMs = f.speechEndWall !== undefined ? this.#now() - f.speechEndWall : null;
      this.facts.set(u.itemId, f);
    }
    const shift = (/** @type {number|null|undefined} */ v) =>
      typeof v === "number" ? v + this.offsetMs : null;
    return { ...f, startMs: shift(f.startMs), endMs: shift(f.endMs) };
  }

  /** Moves the live session's final lines to the archive (before a new session starts). */
  archive() {
    // Lines Stop cut off stay in the archive with their mark (what the reader saw).
    const lines = this.transcript.list().map((u) => this.#placed(u))
      .filter((u) => u.status === "final" || this.facts.get(u.itemId)?.cutOff)
      .map((u) => this.#readable(u)).filter((u) => u !== null);
    this.archived = [...this.archived, ...lines];
    const ends = this.archived.map((u) => u.endMs ?? u.startMs ?? 0);
    this.offsetMs = ends.length ? Math.max(...ends) + 1000 : 0;
    this.transcript = new Transcript();
    this.#callOf.clear();
  }

  /** Forgets everything. */
  clear() {
    this.transcript.clear();
    this.archived = [];
    this.offsetMs = 0;
    this.facts.clear();
    this.#callOf.clear();
  }
}

/**
 * @param {Utterance} u
 * @param {number} by
 * @returns {Utterance}
 */
function moved(u, by) {
  if (!by) return u;
  return {
    ...u,
    startMs: u.startMs === null ? null : u.startMs + by,
    endMs: u.endMs === null ? null : u.endMs + by,
  };
}

// @ts-check
/**
 * The page's own view of speech turns: the segments its VAD (`audio.js`) found, and when speech
 * ended for an item, which the latency shown beside each final line is measured from.
 *
 * For page-VAD models the page commits each turn itself, so a commit's item gets the exact end of
 * the segment the page committed (and the segment's times, where the events carry none). For
 * server VAD the end is the page's last speech frame when that was recent, else the moment the
 * event arrived: the server's `speech_stopped` comes after its own silence window, which would
 * add that window to the latency.
 *
 * @module
 */

/** A page speech frame older than this is not the end of the turn the event reports, ms. */
export const RECENT_SPEECH_MS = 3000;

/**
 * One turn the page's VAD found: times since the page's audio started (`endMs` null when Stop
 * cut it short), and the `performance.now()` of its end.
 *
 * @typedef {{ startMs: number|null, endMs: number|null, wallEnd: number }} Segment
 */

/** The turns of one live session. */
export class PageTurns {
  /** Start of the turn in progress (page audio ms), or null. @type {number|null} */
  speechStart = null;
  /** Wall time of the last end of speech the page heard. @type {number|null} */
  lastSpeechEnd = null;
  /** Turns the page committed whose `committed` event has not come yet. @type {Segment[]} */
  segments = [];

  /** @param {boolean} pageCommits true when the page commits turns (no server VAD) */
  constructor(pageCommits) {
    /** The session's answer may change it before the call starts. */
    this.pageCommits = pageCommits;
  }

  /** True while the page's VAD hears a turn that the page will commit. */
  get open() {
    return this.pageCommits && this.speechStart !== null;
  }

  /**
   * A speech edge from the page's VAD.
   *
   * @param {import("./audio.js").SpeechEdge} edge
   * @returns {boolean} true when the page must commit the turn now
   */
  edge(edge) {
    if (edge.speaking) {
      this.speechStart = edge.atMs;
      return false;
    }
    this.lastSpeechEnd = edge.wallMs;
    if (!this.pageCommits) return false;
    this.segments.push({ startMs: this.speechStart, endMs: edge.atMs, wallEnd: edge.wallMs });
    this.speechStart = null;
    return true;
  }

  /**
   * Stop pressed: a turn in progress ends now.
   *
   * @param {number} wall `performance.now()`
   * @returns {boolean} true when the page must commit it
   */
  closeAt(wall) {
    if (!this.open) return false;
    this.segments.push({ startMs: this.speechStart, endMs: null, wallEnd: wall });
    return true;
  }

  /**
   * When speech ended for an item an event of `type` reports as ended (`speech_stopped`, or a
   * `committed` without one), and the page's segment for it.
   *
   * @param {string} type the event's type
   * @param {number|null|undefined} heard the page's last speech frame (`performance.now()`), if any
   * @param {number} now `performance.now()`
   * @returns {{ wall: number, segment: Segment|null }}
   */
  speechEnd(type, heard, now) {
    const segment = this.pageCommits && type === "input_audio_buffer.committed"
      ? this.segments.shift() ?? null
      : null;
    const last = heard ?? this.lastSpeechEnd;
    const recent = last && last <= now && now - last < RECENT_SPEECH_MS ? last : null;
    return { wall: segment?.wallEnd ?? recent ?? now, segment };
  }

  /**
   * Notes in `timeline` when speech ended for the item a server event reports as ended
   * (`speech_stopped`, or a `committed` whose end is not known yet), with the page's segment.
   *
   * @param {Record<string, unknown>} event
   * @param {import("./timeline.js").Timeline} timeline
   * @param {number|null|undefined} heard the page's last speech frame, if any
   * @param {number} now `performance.now()`
   */
  noteEnd(event, timeline, heard, now) {
    const id = typeof event.item_id === "string" ? event.item_id : null;
    const type = String(event.type);
    if (!id) return;
    if (
      type === "input_audio_buffer.speech_stopped" ||
      (type === "input_audio_buffer.committed" && !timeline.hasSpeechEnd(id))
    ) {
      const { wall, segment } = this.speechEnd(type, heard, now);
      timeline.speechEnded(id, wall, segment);
    }
  }
}

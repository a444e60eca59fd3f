// @ts-check
/**
 * The live session's captions: every server event folded into the {@linkcode Timeline} and its
 * line drawn through the view (`view.js` `TranscriptView.render` on the page), the lines of a call
 * redrawn when the server's offset for it arrives, and the previous session's lines kept, shifted,
 * when a new one starts.
 *
 * @module
 */
import { itemIdOf } from "../shared/transcript.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */
/** @typedef {import("./timeline.js").Timeline} Timeline */

/**
 * Where caption lines go (the page: a `TranscriptView`).
 *
 * @typedef {object} CaptionView
 * @property {(u: Utterance, facts?: import("./timeline.js").LineFacts) => void} render one line
 * @property {(ordered: Utterance[]) => void} order puts the lines in spoken order
 * @property {() => void} clear removes every line
 */

/** Draws the timeline's lines. */
export class Captions {
  #timeline;
  #view;

  /** @param {{ timeline: Timeline, view: CaptionView }} deps */
  constructor(deps) {
    this.#timeline = deps.timeline;
    this.#view = deps.view;
  }

  /**
   * Folds one server event of the call with key `call` and draws the line it changed.
   *
   * @param {Record<string, unknown>} event
   * @param {number} call the page's key of the call that sent it (`call_clock.js`)
   */
  apply(event, call) {
    const timeline = this.#timeline;
    const item = itemIdOf(event);
    if (item) timeline.noteCall(item, call);
    const u = timeline.transcript.apply(event);
    if (!u) return;
    this.#view.render(timeline.shifted(u), timeline.factsFor(u));
    this.#view.order(timeline.all());
  }

  /** Redraws the lines of one call after its offset changed. @param {number} call */
  redrawCall(call) {
    const timeline = this.#timeline;
    for (const u of timeline.transcript.list()) {
      if (timeline.callOf(u.itemId) === call) {
        this.#view.render(timeline.shifted(u), timeline.factsFor(u));
      }
    }
  }

  /** A new session starts: the final lines so far move to the archive and are redrawn. */
  archive() {
    const timeline = this.#timeline;
    if (!timeline.transcript.size) return;
    timeline.archive();
    this.#view.clear();
    for (const u of timeline.archived) this.#view.render(u, timeline.facts.get(u.itemId));
  }

  /** Stop gave up waiting: lines without final text are kept as they are, marked "(cut off)". */
  cutOff() {
    const timeline = this.#timeline;
    for (const u of timeline.transcript.list()) {
      if (u.status !== "partial" && u.status !== "pending") continue;
      timeline.cutOff(u.itemId);
      this.#view.render(timeline.shifted(u), timeline.factsFor(u));
    }
  }
}

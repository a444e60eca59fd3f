// @ts-check
/**
 * Gap repair: the server's sideband can miss events (a drop, refused re-attaches, an attach that
 * never worked), so the page posts the final lines it saw, and the Store merges the ones it lacks
 * by `item_id` (marking them `seenBy: "browser"`). Times go on the session's clock first, waiting
 * briefly for the server's call offsets, because posted times are final once stored.
 *
 * @module
 */
import { fetchJson } from "./api.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/** How long a post waits for the server's offsets of later calls, ms. */
export const OFFSETS_WAIT_MS = 3000;

/**
 * Sends final lines to `POST /api/sessions/:id/utterances`. Best effort: a missing route or a
 * network error changes nothing.
 *
 * @param {{ sessionId: string, ticket: string, utterances: Utterance[], fetch?: typeof fetch }} options
 * @returns {Promise<boolean>} true when the server took them
 */
export async function postUtterances({ sessionId, ticket, utterances, fetch }) {
  try {
    await fetchJson(`/api/sessions/${encodeURIComponent(sessionId)}/utterances`, {
      body: {
        ticket,
        utterances: utterances.map((u) => ({
          itemId: u.itemId,
          previousItemId: u.previousItemId,
          text: u.text,
          startMs: u.startMs,
          endMs: u.endMs,
          confidence: u.confidence,
        })),
      },
      fetch,
    });
    return true;
  } catch {
    return false;
  }
}

/** Posts a live session's new final lines; `run()` every so often and at the end. */
export class GapRepair {
  #posted = 0;
  #deps;

  /**
   * @param {{
   *   timeline: import("./timeline.js").Timeline,
   *   calls: { settled(ms: number): Promise<void> },
   *   session: () => { sessionId: string, ticket: string } | null,
   *   fetch?: typeof fetch,
   * }} deps `calls` (a `CallClock`) knows when later calls' offsets are in; `session` is the
   *   session's current key and ticket (null before it is minted).
   */
  constructor(deps) {
    this.#deps = deps;
  }

  /** Posts the final lines when there are new ones since the last accepted post. */
  async run() {
    const { timeline, calls } = this.#deps;
    if (!this.#deps.session()) return;
    await calls.settled(OFFSETS_WAIT_MS);
    const finals = timeline.transcript.list().filter((u) => u.status === "final");
    if (finals.length === 0 || finals.length === this.#posted) return;
    const session = this.#deps.session();
    if (!session) return;
    const utterances = finals.map((u) => {
      // A turn the page committed has no server times: its turn detector's times go with it.
      const s = timeline.sessionTimes(u);
      const f = timeline.facts.get(u.itemId);
      const ms = (/** @type {number|null|undefined} */ v) =>
        typeof v === "number" ? Math.round(v) : null;
      return { ...s, startMs: s.startMs ?? ms(f?.startMs), endMs: s.endMs ?? ms(f?.endMs) };
    });
    const ok = await postUtterances({
      sessionId: session.sessionId,
      ticket: session.ticket,
      utterances,
      fetch: this.#deps.fetch,
    });
    if (ok) this.#posted = finals.length;
  }
}

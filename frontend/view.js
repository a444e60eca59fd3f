// @ts-check
/**
 * Rendering: transcript lines, the event log, the screen-reader announcer. Every piece of text
 * that came from outside goes in through `textContent`, never as markup.
 *
 * @module
 */
import { formatClock } from "../shared/clock_format.js";
import { STATUS_LABELS } from "./call_status.js";
import { bindJumpButton, createFollower } from "./follow_live.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/**
 * Page-side facts about an utterance that the events do not carry.
 *
 * @typedef {{ latencyMs?: number|null, startMs?: number|null, endMs?: number|null,
 *   cutOff?: boolean }} LineInfo
 */

/** Said where a model gave no logprobs for a final line. */
export const NO_CONFIDENCE = "no confidence reported";

/** @param {number|null} c */
export function confidenceClass(c) {
  if (c === null || !Number.isFinite(c)) return "";
  return c >= 0.85 ? "conf-high" : c >= 0.6 ? "conf-mid" : "conf-low";
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Renders utterances into an `<ol>` and announces finalized lines. The list follows the newest
 * line (`follow_live.js`) unless the reader scrolled away; `jump` is the "Jump to live" button.
 */
export class TranscriptView {
  /** @type {Map<string, HTMLLIElement>} */
  #nodes = new Map();
  /** @type {Set<string>} */
  #announced = new Set();
  /** @type {ResizeObserver|null} */
  #resize = null;
  /** @type {Element|null} */
  #watched = null;

  /**
   * @param {{ list: HTMLOListElement, empty: HTMLElement, announcer: HTMLElement,
   *   jump?: HTMLButtonElement|null }} options
   */
  constructor({ list, empty, announcer, jump }) {
    this.list = list;
    this.empty = empty;
    this.announcer = announcer;
    const onChange = jump ? bindJumpButton(jump, () => this.follower, () => list.focus()) : null;
    this.follower = createFollower(list, { onChange: onChange ?? undefined });
    // Caption mode, a resize or a zoom change the list's box or its newest line's height.
    if (typeof ResizeObserver === "function") {
      this.#resize = new ResizeObserver(() => this.follower.added(0));
      this.#resize.observe(list);
    }
  }

  /**
   * Creates or updates the line of one utterance.
   *
   * @param {Utterance} u
   * @param {LineInfo} [info]
   */
  render(u, info = {}) {
    const isNew = !this.#nodes.has(u.itemId);
    this.#render(u, info);
    const last = this.list.lastElementChild;
    if (this.#resize && last && last !== this.#watched) {
      if (this.#watched) this.#resize.unobserve(this.#watched);
      this.#resize.observe(last);
      this.#watched = last;
    }
    this.follower.added(isNew ? 1 : 0);
  }

  /**
   * @param {Utterance} u
   * @param {LineInfo} info
   */
  #render(u, info) {
    let li = this.#nodes.get(u.itemId);
    if (!li) {
      li = document.createElement("li");
      li.dataset.itemId = u.itemId;
      const meta = el("div", "meta");
      meta.append(
        el("time", "start"),
        el("span", "dur"),
        el("span", "lat"),
        el("span", "langs"),
        el("span", "conf"),
      );
      li.append(meta, el("p", "text"), el("span", "sr-only conf-sr"));
      this.#nodes.set(u.itemId, li);
      this.list.append(li);
      this.empty.hidden = true;
    }
    const q = (
      /** @type {string} */ s,
    ) => /** @type {HTMLElement} */ (li.querySelector(s));
    const cut = Boolean(info.cutOff) && u.status !== "final" && u.status !== "failed";
    const conf = u.status === "final" ? confidenceClass(u.confidence) || "conf-none" : "";
    li.className = ["utterance", cut ? "cutoff" : u.status, conf].filter(Boolean).join(" ");
    li.hidden = cut && !u.text;
    const start = u.startMs ?? info.startMs ?? null;
    const end = u.endMs ?? info.endMs ?? null;
    q(".start").textContent = formatClock(start);
    q(".dur").textContent = start !== null && end !== null && end > start
      ? `${((end - start) / 1000).toFixed(1)} s`
      : "";
    q(".lat").textContent = typeof info.latencyMs === "number"
      ? `latency ${(info.latencyMs / 1000).toFixed(2)} s`
      : "";
    q(".langs").textContent = u.languages?.length ? u.languages.join(", ") : "";
    q(".conf").textContent = conf === "conf-none" ? NO_CONFIDENCE : "";
    // Never colour alone: a doubtful line is underlined and says so to screen readers.
    q(".conf-sr").textContent = conf === "conf-low"
      ? " (low confidence)"
      : conf === "conf-mid"
      ? " (some words uncertain)"
      : "";
    const text = u.status === "failed"
      ? `Transcription failed: ${u.error ?? "unknown error"}`
      : cut
      ? `${u.text} (cut off)`
      : u.text || (u.status === "pending" ? "…" : "");
    q(".text").textContent = text;
    li.title = u.confidence !== null ? `Confidence ${Math.round(u.confidence * 100)}%` : "";
    if ((u.status === "final" || cut) && !this.#announced.has(u.itemId) && u.text) {
      this.#announced.add(u.itemId);
      const line = el("p", "", text);
      this.announcer.append(line);
      while (this.announcer.childElementCount > 5) {
        this.announcer.firstElementChild?.remove();
      }
    }
  }

  /**
   * Puts the lines in spoken order (only moves nodes when the order changed).
   *
   * @param {Utterance[]} ordered
   */
  order(ordered) {
    const want = ordered.map((u) => u.itemId);
    const have = [...this.list.children].map((n) => /** @type {HTMLElement} */ (n).dataset.itemId);
    if (want.length === have.length && want.every((id, i) => id === have[i])) {
      return;
    }
    for (const id of want) {
      const node = this.#nodes.get(id);
      if (node) this.list.append(node);
    }
  }

  /** Removes every line. */
  clear() {
    this.#nodes.clear();
    this.#announced.clear();
    this.list.replaceChildren();
    this.announcer.replaceChildren();
    this.empty.hidden = false;
    if (this.#watched) this.#resize?.unobserve(this.#watched);
    this.#watched = null;
    this.follower.jumpToLive();
  }
}

/** The raw server event pane, bounded. */
export class EventLog {
  /**
   * @param {{ list: HTMLOListElement, counter: HTMLElement, max?: number }} options
   */
  constructor({ list, counter, max = 300 }) {
    this.list = list;
    this.counter = counter;
    this.max = max;
    this.count = 0;
  }

  /**
   * @param {Record<string, unknown>} event
   * @param {"in"|"out"|"note"} [direction]
   */
  add(event, direction = "in") {
    const li = el("li", `log-${direction}`);
    const time = new Date().toISOString().slice(11, 23);
    li.append(el("time", "", time), el("b", "", String(event.type ?? "?")));
    const rest = { ...event };
    delete rest.type;
    delete rest.event_id;
    let json = JSON.stringify(rest);
    if (json.length > 300) json = json.slice(0, 300) + "…";
    if (json !== "{}") li.append(el("code", "", json));
    this.list.append(li);
    while (this.list.childElementCount > this.max) {
      this.list.firstElementChild?.remove();
    }
    this.counter.textContent = String(++this.count);
  }
}

/** The status pill, the message box, the level meter and the speaking indicator. */
export class StatusView {
  /** @type {Record<string, string>} */
  static LABELS = STATUS_LABELS;

  /**
   * @param {{ status: HTMLElement, message: HTMLElement, level: HTMLElement,
   *   speaking: HTMLElement }} elements
   */
  constructor(elements) {
    this.el = elements;
  }

  /** Current state (`idle`, `starting`, `live`, `stopping`). */
  get state() {
    return this.el.status.dataset.state ?? "idle";
  }

  /**
   * @param {string} state
   * @param {string} [text] defaults to the state's label
   */
  set(state, text) {
    const label = text ?? StatusView.LABELS[state] ?? state;
    this.el.status.dataset.state = state;
    // The pill is a live region: the same words again would be announced again.
    if (this.el.status.textContent !== label) this.el.status.textContent = label;
  }

  /** Shows a short confirmation in the status pill. @param {string} text */
  toast(text) {
    const state = this.state;
    this.set(state, text);
    setTimeout(() => this.el.status.textContent === text && this.set(state), 2000);
  }

  /**
   * Shows (or hides, with null) the message box: one plain sentence, and the technical details
   * (the server's own words) behind a disclosure.
   *
   * @param {string|null} text
   * @param {string|null} [detail]
   */
  message(text, detail = null) {
    const box = this.el.message;
    box.replaceChildren();
    if (text) box.append(el("p", "", text));
    if (text && detail) {
      const more = document.createElement("details");
      more.append(el("summary", "", "Technical details"), el("code", "", detail));
      box.append(more);
    }
    box.hidden = !text;
  }

  /** @param {number} level 0..1 */
  level(level) {
    const pct = Math.round(level * 100);
    /** @type {HTMLElement} */ (this.el.level.firstElementChild).style.setProperty(
      "width",
      `${pct}%`,
    );
    this.el.level.setAttribute("aria-valuenow", String(pct));
  }

  /** @param {boolean} on */
  speaking(on) {
    this.el.speaking.dataset.on = String(on);
    /** @type {HTMLElement} */ (this.el.speaking.querySelector(".label")).textContent = on
      ? "Speaking"
      : "Silent";
  }
}

/**
 * The main page's views over its elements (the ids in `index.html`).
 *
 * @param {(id: string) => HTMLElement} byId
 */
export function bindPageViews(byId) {
  return {
    show: new StatusView({
      status: byId("status"),
      message: byId("message"),
      level: byId("level"),
      speaking: byId("speaking"),
    }),
    lines: new TranscriptView({
      list: /** @type {HTMLOListElement} */ (byId("transcript")),
      empty: byId("empty"),
      announcer: byId("announcer"),
      jump: /** @type {HTMLButtonElement} */ (byId("jump")),
    }),
    log: new EventLog({
      list: /** @type {HTMLOListElement} */ (byId("log")),
      counter: byId("log-count"),
    }),
  };
}

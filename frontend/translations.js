// @ts-check
/**
 * The live session's translation calls: one per language the session asked for, opened next to
 * the transcription call from the same microphone; their text deltas kept for the captions and
 * posted to the server in small batches (`POST /api/sessions/:id/translations`, idempotent by
 * event id) so the server stays the record.
 *
 * A translation call that fails or drops never stops the captions: it reconnects a few times with
 * backoff, then its language shows as stopped with Retry. Every outside part is injected
 * (`connect` = `translation_calls.js` `connectTranslation`, fetch, clock, the view), so this runs
 * in Deno's tests without a browser.
 *
 * Times: a delta's `elapsed_ms` is on its call's audio clock. The page puts it on the session's
 * clock by adding when the call opened minus when the transcription call opened (both clocks
 * start with the microphone's audio on their call), an estimate within a few hundred ms.
 *
 * @module
 */
import { postJson } from "./api.js";
import { backoffDelay } from "../shared/backoff.js";
import { pageClock } from "./clock.js";

/** @typedef {import("./translation_calls.js").TranslationTarget} TranslationTarget */
/** @typedef {import("./translation_calls.js").TranslationCall} TranslationCall */

/** Deltas are posted this often while live, ms. */
export const FLUSH_EVERY_MS = 1000;
/** Most deltas in one post (the server takes up to 200). */
export const BATCH_SIZE = 100;
/** Automatic reconnects of one language before it waits for Retry. */
export const AUTO_RECONNECTS = 2;
/**
 * A delta waits this long, ms, for the caption line it belongs to before it is posted without
 * one (the server then places it by time).
 */
export const HOLD_UNPLACED_MS = 8000;
/** Deltas kept for posting while the server cannot be reached (oldest dropped beyond). */
const OUTBOX_MAX = 5000;

/**
 * What the page shows of the translations.
 *
 * @typedef {object} TranslationsView
 * @property {(languages: TranslationTarget[]) => void} languages the session's languages
 * @property {(language: string, state: "connecting"|"live"|"reconnecting"|"stopped",
 *   message?: string) => void} state one language's call state
 * @property {(language: string, speech: MediaStream) => void} speech translated speech to play
 * @property {() => void} changed the deltas changed (redraw the lines)
 */

/**
 * One delta as the page keeps it.
 *
 * @typedef {{ eventId: string, language: string, kind: "output"|"input", text: string,
 *   elapsedMs: number, atMs: number, itemId?: string, heardAt?: number }} PageDelta
 */

/**
 * @param {{
 *   connect: (params: Parameters<typeof import("./translation_calls.js").connectTranslation>[0])
 *     => Promise<TranslationCall>,
 *   view: TranslationsView,
 *   place?: (deltas: PageDelta[]) => (string|null)[],
 *   fetch?: typeof fetch,
 *   clock?: import("./clock.js").Clock,
 *   random?: () => number,
 * }} deps
 */
export function createTranslations(deps) {
  const clock = deps.clock ?? pageClock();
  const doFetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  /** @type {PageDelta[]} */
  let deltas = [];
  /** @type {PageDelta[]} */
  let outbox = [];
  /** @type {Set<string>} */
  let seen = new Set();
  /**
   * @typedef {{ sessionId: string, ticket: string, stream: MediaStream, base: number|null,
   *   calls: Map<string, { target: TranslationTarget, call: TranslationCall|null,
   *   openedAt: number, attempts: number, generation: number }>, timer: unknown,
   *   stopped: boolean }} LiveTranslations
   */
  /** @type {LiveTranslations|null} */
  let live = null;
  /** The post under way, if any. @type {Promise<void>|null} */
  let inFlight = null;

  /**
   * @param {NonNullable<typeof live>} current
   * @param {string} language
   * @param {{ relay?: boolean }} [options]
   */
  async function open(current, language, options = {}) {
    const entry = current.calls.get(language);
    if (!entry || current.stopped) return;
    const generation = ++entry.generation;
    deps.view.state(language, entry.attempts ? "reconnecting" : "connecting");
    try {
      const call = await deps.connect({
        target: entry.target,
        ticket: current.ticket,
        stream: current.stream,
        preferRelay: options.relay,
        fetch: doFetch,
        onEvent: (event) => onEvent(current, language, event),
        onStatus: (s) => {
          if (s === "ended" || s === "failed" || s === "closed") {
            dropped(current, language, generation);
          }
        },
      });
      if (current.stopped || entry.generation !== generation) {
        await call.stop();
        return;
      }
      entry.call = call;
      entry.openedAt = clock.now();
      deps.view.state(language, "live");
      call.speech.then((s) => !current.stopped && deps.view.speech(language, s), () => {});
    } catch (err) {
      if (current.stopped || entry.generation !== generation) return;
      dropped(current, language, generation, err);
    }
  }

  /**
   * A call failed to open or dropped: reconnect (through the relay: its key may have expired),
   * or, after {@linkcode AUTO_RECONNECTS}, wait for Retry.
   *
   * @param {NonNullable<typeof live>} current
   * @param {string} language
   * @param {number} generation
   * @param {unknown} [err]
   */
  function dropped(current, language, generation, err) {
    const entry = current.calls.get(language);
    if (!entry || current.stopped || entry.generation !== generation) return;
    void entry.call?.stop();
    entry.call = null;
    if (entry.attempts < AUTO_RECONNECTS) {
      const wait = backoffDelay(entry.attempts, { baseMs: 500, random: deps.random });
      entry.attempts++;
      deps.view.state(language, "reconnecting");
      clock.setTimeout(() => void open(current, language, { relay: true }), wait);
      return;
    }
    const why = err instanceof Error ? err.message : "the call ended";
    deps.view.state(language, "stopped", `${entry.target.name} translation stopped: ${why}`);
  }

  /**
   * @param {NonNullable<typeof live>} current
   * @param {string} language
   * @param {Record<string, any>} event
   */
  function onEvent(current, language, event) {
    const type = event?.type;
    const kind = type === "session.output_transcript.delta"
      ? "output"
      : type === "session.input_transcript.delta"
      ? "input"
      : null;
    if (!kind || typeof event.delta !== "string") return;
    const entry = current.calls.get(language);
    const elapsedMs = Number(event.elapsed_ms);
    if (!entry || !Number.isFinite(elapsedMs) || elapsedMs < 0) return;
    const eventId =
      typeof event.event_id === "string" && /^[A-Za-z0-9_.:-]{1,128}$/.test(event.event_id)
        ? event.event_id
        : `page_${language}_${entry.generation}_${deltas.length}`;
    const key = `${language}\u0000${eventId}`;
    if (seen.has(key)) return;
    seen.add(key);
    // Before the transcription call opened its clock is not known: count from this call's start.
    const offset = current.base === null ? 0 : (entry.openedAt || clock.now()) - current.base;
    /** @type {PageDelta} */
    const d = {
      eventId,
      language,
      kind,
      text: event.delta.slice(0, 2000),
      elapsedMs,
      atMs: Math.round(elapsedMs + offset),
      heardAt: clock.now(),
    };
    deltas.push(d);
    outbox.push(d);
    if (outbox.length > OUTBOX_MAX) outbox = outbox.slice(-OUTBOX_MAX);
    deps.view.changed();
    if (outbox.length >= BATCH_SIZE) void flush();
  }

  /**
   * Posts what is waiting, a batch at a time, each delta with the caption line it is under; one
   * not under a line yet waits up to {@linkcode HOLD_UNPLACED_MS} (`all`: posts everything). A
   * failed post keeps it for the next round.
   *
   * @param {boolean} [all]
   */
  async function flush(all = false) {
    while (inFlight) await inFlight;
    inFlight = post(all).finally(() => inFlight = null);
    await inFlight;
  }

  /** One round of {@linkcode flush}; never throws. @param {boolean} all */
  async function post(all) {
    const current = live ?? last;
    if (!current || outbox.length === 0) return;
    /** @type {PageDelta[]} */
    const ready = [];
    try {
      const places = deps.place?.(outbox) ?? outbox.map(() => null);
      const now = clock.now();
      /** @type {PageDelta[]} */
      const waiting = [];
      outbox.forEach((d, i) => {
        const itemId = places[i];
        if (itemId) d.itemId = itemId;
        if (itemId || all || now - (d.heardAt ?? 0) >= HOLD_UNPLACED_MS) ready.push(d);
        else waiting.push(d);
      });
      outbox = waiting;
      while (ready.length) {
        const batch = ready.slice(0, BATCH_SIZE);
        await postJson(`/api/sessions/${encodeURIComponent(current.sessionId)}/translations`, {
          ticket: current.ticket,
          deltas: batch.map(({ heardAt: _, ...d }) => d),
        }, { fetch: doFetch });
        ready.splice(0, batch.length);
      }
    } catch {
      // What was not posted goes back (the server drops what it already has by event id).
      outbox = [...ready, ...outbox];
    }
  }
  /** The last session, for its final post after Stop. @type {LiveTranslations|null} */
  let last = null;

  return {
    /**
     * Opens one call per language of the session (never throws: a language that fails shows so).
     *
     * @param {{ session: import("./connection.js").SessionInfo & { translations?: TranslationTarget[] },
     *   stream: MediaStream }} params
     */
    start({ session, stream }) {
      const targets = Array.isArray(session.translations) ? session.translations : [];
      deps.view.languages(targets);
      if (targets.length === 0) return;
      deltas = [];
      outbox = [];
      seen = new Set();
      /** @type {LiveTranslations} */
      const current = {
        sessionId: session.sessionId,
        ticket: session.ticket,
        stream,
        base: null,
        calls: new Map(targets.map((t) => [t.language, {
          target: t,
          call: null,
          openedAt: 0,
          attempts: 0,
          generation: 0,
        }])),
        timer: clock.setInterval(() => void flush(), FLUSH_EVERY_MS),
        stopped: false,
      };
      live = last = current;
      for (const t of targets) void open(current, t.language);
    },
    /** The transcription call opened at `at` (page clock): the session's time 0. @param {number} at */
    baseAt(at) {
      if (!live || live.base !== null) return;
      live.base = at;
      for (const d of deltas) {
        const entry = live.calls.get(d.language);
        if (entry?.openedAt) d.atMs = Math.round(d.elapsedMs + entry.openedAt - at);
      }
    },
    /** Retry pressed for a stopped language. @param {string} language */
    retry(language) {
      const current = live;
      const entry = current?.calls.get(language);
      if (!current || !entry || entry.call) return;
      entry.attempts = 0;
      void open(current, language, { relay: true });
    },
    /** Closes every call and posts what is left. */
    async stop() {
      const current = live;
      if (!current) return;
      current.stopped = true;
      live = null;
      clock.clearInterval(current.timer);
      await Promise.all([...current.calls.values()].map((e) => e.call?.stop()));
      await flush(true);
    },
    /** Every delta of this session so far, in arrival order. */
    deltas: () => deltas,
    /** Posts now (tests, and Stop). */
    flush,
    /** The languages whose call is open. */
    liveLanguages: () =>
      live ? [...live.calls.values()].filter((e) => e.call).map((e) => e.target.language) : [],
  };
}

// @ts-check
/**
 * Transcript export formats (TXT, SRT, WebVTT, JSON), shared by the page (downloads) and the
 * server (share viewer, API). Plain ES module; its one import is the page's clock format.
 *
 * Only `final` utterances are exported, in the order given (pass `Transcript.list()` or the
 * Store's ordered rows). Cue times come from `startMs` / `endMs`; when missing:
 *
 * - a missing `startMs` becomes the previous cue's end (0 for the first cue);
 * - a missing `endMs` becomes `startMs` plus a reading-time estimate (400 ms per word, at least
 *   1 s, at most 10 s);
 * - an end not after its start is pushed to start + 500 ms.
 *
 * Cue starts never go back: a start before the previous cue's start is raised to it. Times are
 * session-relative, but a later call's offset is an estimate (see `CallRow` in
 * `lib/store/types.ts`), and players expect cues in time order.
 *
 * @module
 */

import { formatClock } from "./clock_format.js";

export { formatClock };

/** @typedef {import("./transcript.js").Utterance} Utterance */

/**
 * A cue: one final utterance with resolved times.
 *
 * @typedef {{ index: number, startMs: number, endMs: number, text: string, utterance: Utterance }} Cue
 */

/**
 * Resolves the final utterances into cues with definite times (see the module doc for fallbacks).
 *
 * @param {Iterable<Utterance>} utterances in spoken order
 * @returns {Cue[]}
 */
export function toCues(utterances) {
  /** @type {Cue[]} */
  const cues = [];
  let lastEnd = 0;
  let lastStart = 0;
  for (const u of utterances) {
    if (!u || u.status !== "final") continue;
    const text = String(u.text ?? "").trim();
    if (!text) continue;
    const start = Math.max(lastStart, finite(u.startMs) ? Math.round(u.startMs) : lastEnd);
    const words = text.split(/\s+/).length;
    let end = finite(u.endMs)
      ? Math.round(u.endMs)
      : start + Math.min(10_000, Math.max(1000, words * 400));
    if (end <= start) end = start + 500;
    cues.push({
      index: cues.length + 1,
      startMs: start,
      endMs: end,
      text,
      utterance: u,
    });
    lastEnd = end;
    lastStart = start;
  }
  return cues;
}

/**
 * Formats milliseconds as `hh:mm:ss<sep>mmm`.
 *
 * @param {number} ms
 * @param {"," | "."} sep
 */
export function formatTimestamp(ms, sep) {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${sep}${pad(t % 1000, 3)}`;
}

/**
 * Plain text: one final utterance per line.
 *
 * @param {Iterable<Utterance>} utterances
 * @param {{ timestamps?: boolean }} [options] prefix each line with `[m:ss]`
 * @returns {string}
 */
export function toTxt(utterances, options = {}) {
  const lines = toCues(utterances).map((c) =>
    (options.timestamps ? `[${formatClock(c.startMs)}] ` : "") + oneLine(c.text)
  );
  return lines.length ? lines.join("\n") + "\n" : "";
}

/**
 * SubRip. SRT has no escape syntax: line breaks are folded to spaces and `-->` becomes `->` so a
 * cue line can never be read as a timing line.
 *
 * @param {Iterable<Utterance>} utterances
 * @returns {string}
 */
export function toSrt(utterances) {
  return toCues(utterances).map((c) =>
    `${c.index}\n${formatTimestamp(c.startMs, ",")} --> ${formatTimestamp(c.endMs, ",")}\n` +
    `${oneLine(c.text).replaceAll("-->", "->")}\n`
  ).join("\n");
}

/**
 * WebVTT. Text is escaped (`&` `<` `>` as entities, which also defuses `-->`).
 *
 * @param {Iterable<Utterance>} utterances
 * @returns {string}
 */
export function toVtt(utterances) {
  const cues = toCues(utterances).map((c) =>
    `${formatTimestamp(c.startMs, ".")} --> ${formatTimestamp(c.endMs, ".")}\n${
      escapeVtt(oneLine(c.text))
    }\n`
  );
  return ["WEBVTT\n", ...cues].join("\n");
}

/**
 * JSON document: `{ ...meta, utterances: [{ itemId, previousItemId, text, startMs, endMs,
 * confidence, languages }] }` with the times as recorded (null when unknown), pretty-printed; a
 * line without confidence says `confidenceNote: "no confidence reported"`.
 *
 * With `options.translations` (line id → language → text, `shared/translations.js`) each
 * utterance also holds `translations: { es: "…" }` (empty when none was heard).
 *
 * @param {Iterable<Utterance>} utterances
 * @param {Record<string, unknown>} [meta] e.g. `{ sessionId, model, exportedAt }`
 * @param {{ translations?: Map<string, Map<string, string>> }} [options]
 * @returns {string}
 */
export function toJson(utterances, meta = {}, options = {}) {
  const list = [...utterances].filter((u) => u && u.status === "final").map((
    u,
  ) => ({
    itemId: u.itemId,
    previousItemId: u.previousItemId ?? null,
    text: u.text,
    startMs: finite(u.startMs) ? u.startMs : null,
    endMs: finite(u.endMs) ? u.endMs : null,
    confidence: finite(u.confidence) ? u.confidence : null,
    // Said in words where the model gave no logprobs, so a reader never mistakes it for 0.
    ...(finite(u.confidence) ? {} : { confidenceNote: "no confidence reported" }),
    languages: u.languages ?? null,
    ...(options.translations
      ? { translations: Object.fromEntries(options.translations.get(u.itemId) ?? []) }
      : {}),
  }));
  return JSON.stringify({ ...meta, utterances: list }, null, 2) + "\n";
}

/**
 * Escapes text for a WebVTT cue payload.
 *
 * @param {string} text
 */
export function escapeVtt(text) {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  );
}

/** @param {string} text */
function oneLine(text) {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * @param {unknown} v
 * @returns {v is number}
 */
function finite(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * @param {number} n
 * @param {number} width
 */
function pad(n, width) {
  return String(n).padStart(width, "0");
}

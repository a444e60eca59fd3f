/**
 * Turn detection in noise: the page's detector (`frontend/turn_detector.js`, what commits turns for
 * models without server VAD), the emulator's server VAD (`emulator/vad.ts`) and, as the same-run
 * baseline, the page's previous detector (`bench/legacy_page_vad.ts`), all on the same audio.
 *
 * The audio is espeak-ng speech (six voices, 150–190 words per minute, levels within 6 dB, gaps of
 * 1.1–2.3 s) with known speech regions, mixed with white, pink or brown noise from sox or a babble
 * of six espeak-ng voices, at 20, 10 and 5 dB SNR (`testing/noisy_speech.ts`). Each condition is
 * several takes of six utterances, each take over a different stretch of the noise. Per detector
 * and condition it reports the share of utterances found, false splits (extra turns inside an
 * utterance) per utterance, and the absolute error of every start and end boundary of the found
 * utterances (`bench/turn_scoring.ts`). False alarms (turns in no utterance) are in the notes.
 *
 * A "lecture" take (sentences 0.3 s apart, never a silence long enough to end a turn) in pink
 * noise at 10 dB measures the maximum turn length: the longest turn and whether each cut came in
 * a pause of the clean speech rather than inside a word. The same lecture with no gap at all
 * between sentences (no speaker talks like that) shows what happens when there is no real pause.
 *
 * Run alone: `npx -y deno@2.7.5 run -A bench/turn_detection.ts [--quick] [--markdown]` prints the
 * whole matrix; `deno task bench --only turns` puts the same rows in the bench table.
 *
 * @module
 */
import type { BenchContext, Benchmark } from "./runner.ts";
import { formatMarkdown, formatTable } from "./runner.ts";
import { type Goal, median, percentile, type Row } from "./stats.ts";
import { addScores, pairTurns, scoreTurns, type Span, type TurnScore } from "./turn_scoring.ts";
import { legacyPageTurns } from "./legacy_page_vad.ts";
import { TurnDetector, type TurnEvent } from "../frontend/turn_detector.js";
import { VoiceActivityDetector } from "../emulator/vad.ts";
import { resample } from "../emulator/audio.ts";
import {
  lecturePieces,
  loudestDb,
  makeNoise,
  makeSpeechTrack,
  mixAtSnr,
  NOISE_KINDS,
  type NoiseKind,
  type SpeechPiece,
  type SpeechTrack,
  toFloat,
} from "../testing/noisy_speech.ts";

const RATE = 48000;
/** The page's default `pageSilenceMs`. */
const PAGE_SILENCE_MS = 700;
/** The page's default server-VAD settings (`frontend/settings.js`); no prefix padding, so the
 * reported start is where the VAD heard speech begin. */
const SERVER_VAD = {
  type: "server_vad" as const,
  threshold: 0.5,
  prefixPaddingMs: 0,
  silenceDurationMs: 500,
};
/** SNRs of the matrix, dB. */
export const SNRS = [20, 10, 5] as const;
const UTTERANCES_PER_TAKE = 6;

/** Sentences the takes are made of (cycled). */
const SENTENCES = [
  "The quick brown fox jumps over the lazy dog.",
  "Please send the quarterly report before noon on Friday.",
  "Yes, I think so.",
  "Live captions make meetings easier to follow for everyone in the room.",
  "Could you repeat the last number?",
  "We moved the launch to the second week of March, because the supplier was late.",
  "Thank you.",
  "The train to Edinburgh leaves from platform nine at half past six.",
  "I am not sure that is the right answer, but it is a good start.",
  "Turn left at the lights.",
  "Our team reviewed every ticket, and we closed most of them by Thursday.",
  "How much does it cost?",
  "She painted the kitchen a pale shade of green last summer.",
  "Remember to water the plants while I am away.",
  "The results were better than we expected, so we are going ahead.",
  "No.",
  "Meet me outside the library after the lecture.",
  "Every version of the document is stored on the shared drive.",
  "That sounds great, let us do it.",
  "The weather forecast says it will rain all weekend, so bring an umbrella.",
  "Who is speaking next?",
  "Please mute your microphone when you are not talking.",
  "The museum opens at ten and closes at five on weekdays.",
  "I will call you back in five minutes.",
];
const VOICES = ["en", "en-us+f3", "en-gb-scotland+m3", "en+f2", "en-029+f4", "en-us+m7"];
const SPEEDS = [175, 160, 190, 150, 180, 170];
const GAINS = [-6, -9, -4, -12, -7, -10];
const GAPS = [1.6, 1.1, 2.3, 1.4, 1.9, 1.2, 1.7];

/** Takes of one run: which sentences, voices, speeds, levels and gaps. */
export function takePieces(take: number): SpeechPiece[] {
  const pieces: SpeechPiece[] = [];
  for (let k = 0; k < UTTERANCES_PER_TAKE; k++) {
    const i = take * UTTERANCES_PER_TAKE + k;
    pieces.push({
      text: SENTENCES[i % SENTENCES.length],
      voice: VOICES[(i + take) % VOICES.length],
      wordsPerMinute: SPEEDS[(i + 2 * take) % SPEEDS.length],
      gainDb: GAINS[(i + take) % GAINS.length],
      gapBeforeSec: k === 0 ? 1.5 : GAPS[(i + take) % GAPS.length],
    });
  }
  return pieces;
}

/** A detector's boundaries, and when (ms of audio pushed) each end was reported. */
export interface Detected {
  turns: Span[];
  /** For each turn that ended: ms of audio pushed when the end was reported, and why. */
  ends: { reportedMs: number; atMs: number; reason: string }[];
}

/** Runs the page's detector the way the AudioWorklet does: 128-sample blocks. */
export function runPageDetector(samples: Float32Array, sampleRate: number): Detected {
  const detector = new TurnDetector({ sampleRate, silenceMs: PAGE_SILENCE_MS });
  const events: TurnEvent[] = [];
  const ends: Detected["ends"] = [];
  for (let i = 0; i < samples.length; i += 128) {
    for (const e of detector.push(samples.subarray(i, i + 128))) {
      events.push(e);
      if (e.type === "end") {
        ends.push({ reportedMs: detector.positionMs, atMs: e.atMs, reason: e.reason });
      }
    }
  }
  return { turns: pairTurns(events, detector.positionMs), ends };
}

/** Runs the emulator's server VAD on 24 kHz PCM in 20 ms chunks, as WebRTC audio reaches it. */
export function runServerVad(samples: Int16Array, sampleRate: number): Detected {
  const pcm = resample(samples, sampleRate, 24000);
  const vad = new VoiceActivityDetector(SERVER_VAD, 24000);
  const events: { type: "start" | "end"; atMs: number }[] = [];
  const ends: Detected["ends"] = [];
  for (let i = 0; i < pcm.length; i += 480) {
    for (const e of vad.push(pcm.subarray(i, i + 480))) {
      if (e.type === "speech_started") events.push({ type: "start", atMs: e.audioStartMs });
      else {
        events.push({ type: "end", atMs: e.audioEndMs });
        ends.push({ reportedMs: vad.positionMs, atMs: e.audioEndMs, reason: "silence" });
      }
    }
  }
  return { turns: pairTurns(events, vad.positionMs), ends };
}

/** Runs the baseline (the page's previous detector). */
export function runLegacy(samples: Float32Array, sampleRate: number): Detected {
  const events = legacyPageTurns(samples, sampleRate, PAGE_SILENCE_MS);
  return { turns: pairTurns(events, (samples.length * 1000) / sampleRate), ends: [] };
}

/** The detectors, by row prefix. */
export const DETECTORS = ["page", "server_vad", "legacy"] as const;
type DetectorName = typeof DETECTORS[number];

/** Scores of one condition, per detector. */
export type ConditionScores = Record<DetectorName, TurnScore>;

function detect(name: DetectorName, mix: Int16Array, float: Float32Array): Detected {
  if (name === "page") return runPageDetector(float, RATE);
  if (name === "server_vad") return runServerVad(mix, RATE);
  return runLegacy(float, RATE);
}

/** Builds the takes (clean tracks) of a run. */
export async function buildTakes(count: number): Promise<SpeechTrack[]> {
  const tracks: SpeechTrack[] = [];
  for (let t = 0; t < count; t++) {
    tracks.push(await makeSpeechTrack(takePieces(t), { sampleRate: RATE }));
  }
  return tracks;
}

/** Scores every detector on every take of one noise condition. */
export async function scoreCondition(
  tracks: readonly SpeechTrack[],
  kind: NoiseKind,
  snrDb: number,
): Promise<ConditionScores> {
  const totalSec = tracks.reduce((n, t) => n + t.samples.length / RATE, 0);
  const noise = await makeNoise(kind, Math.ceil(totalSec) + 1, { sampleRate: RATE });
  const scores: Record<DetectorName, TurnScore[]> = { page: [], server_vad: [], legacy: [] };
  let offset = 0;
  for (const track of tracks) {
    const mix = mixAtSnr(track, noise, snrDb, { noiseOffset: offset });
    offset += track.samples.length;
    const float = toFloat(mix.samples);
    for (const name of DETECTORS) {
      scores[name].push(scoreTurns(track.regions, detect(name, mix.samples, float).turns));
    }
  }
  return {
    page: addScores(scores.page),
    server_vad: addScores(scores.server_vad),
    legacy: addScores(scores.legacy),
  };
}

/** Share found, %. */
export function foundPct(s: TurnScore): number {
  return (100 * s.found) / s.regions;
}

/** False splits per utterance, %. */
export function splitPct(s: TurnScore): number {
  return (100 * s.falseSplits) / s.regions;
}

/** Absolute boundary errors (starts and ends), ms. */
export function boundaryErrors(s: TurnScore): number[] {
  return [...s.startErrors, ...s.endErrors].map(Math.abs);
}

/** The goal at 10 dB pink noise. */
const GOALS: Record<"found" | "false_splits" | "boundary_ms", Goal> = {
  found: { text: "≥ 95 %", check: (s) => s.median >= 95 },
  false_splits: { text: "≤ 5 %", check: (s) => s.median <= 5 },
  boundary_ms: { text: "p50 ≤ 150ms", check: (s) => s.median <= 150 },
};

/** Table rows of one condition. */
export function conditionRows(kind: NoiseKind, snrDb: number, c: ConditionScores): Row[] {
  const rows: Row[] = [];
  const goal = kind === "pink" && snrDb === 10;
  for (const name of ["page", "server_vad"] as const) {
    const s = c[name];
    const prefix = `turns.${name}.${kind}_${snrDb}db`;
    const signed = (v: number[]) => median(v).toFixed(0);
    rows.push(
      {
        name: `${prefix}.found`,
        unit: "%",
        samples: [foundPct(s)],
        baseline: [foundPct(c.legacy)],
        ...(goal && name === "page" ? { goal: GOALS.found } : {}),
        note:
          `${s.found}/${s.regions} utterances (baseline ${c.legacy.found}/${c.legacy.regions}); ` +
          `false alarms ${s.falseAlarms} (baseline ${c.legacy.falseAlarms})`,
      },
      {
        name: `${prefix}.false_splits`,
        unit: "%",
        samples: [splitPct(s)],
        baseline: [splitPct(c.legacy)],
        ...(goal && name === "page" ? { goal: GOALS.false_splits } : {}),
      },
      {
        name: `${prefix}.boundary_ms`,
        unit: "ms",
        samples: boundaryErrors(s),
        baseline: boundaryErrors(c.legacy),
        ...(goal && name === "page" ? { goal: GOALS.boundary_ms } : {}),
        note: `signed medians: start ${signed(s.startErrors)} ms, end ${signed(s.endErrors)} ms`,
      },
    );
  }
  return rows;
}

/** What the lecture take measures. */
export interface LectureResult {
  turns: Span[];
  cuts: { reportedMs: number; atMs: number; inPause: boolean }[];
  legacyTurns: Span[];
  durationMs: number;
}

/**
 * A cut is in a pause when the clean speech stays 35 dB below its own loudest 10 ms from 40 ms
 * before the commit until 40 ms after it: the commit then splits no sound.
 */
export async function runLecture(gapSec = 0.3): Promise<LectureResult> {
  const track = await makeSpeechTrack(lecturePieces(gapSec), { sampleRate: RATE });
  const noise = await makeNoise("pink", Math.ceil(track.samples.length / RATE) + 1, {
    sampleRate: RATE,
  });
  const mix = mixAtSnr(track, noise, 10);
  const float = toFloat(mix.samples);
  const page = runPageDetector(float, RATE);
  const peak = loudestDb(track, 0, (track.samples.length * 1000) / RATE);
  const cuts = page.ends.filter((e) => e.reason === "max_length").map((e) => ({
    reportedMs: e.reportedMs,
    atMs: e.atMs,
    inPause: loudestDb(track, e.reportedMs - 40, e.reportedMs + 40) < peak - 35,
  }));
  return {
    turns: page.turns,
    cuts,
    legacyTurns: runLegacy(float, RATE).turns,
    durationMs: (track.samples.length * 1000) / RATE,
  };
}

/** Rows of a lecture take. */
export function lectureRows(r: LectureResult, name: string): Row[] {
  const longest = (turns: Span[]) => Math.max(...turns.map((t) => t.endMs - t.startMs)) / 1000;
  const inPause = r.cuts.filter((c) => c.inPause).length;
  return [
    {
      name: `turns.page.${name}.longest_turn`,
      unit: "s",
      samples: [longest(r.turns)],
      baseline: [longest(r.legacyTurns)],
      goal: { text: "≤ 16 s", check: (s) => s.median <= 16 },
      note: `${(r.durationMs / 1000).toFixed(1)} s of continuous speech: ${r.turns.length} turns ` +
        `(baseline ${r.legacyTurns.length})`,
    },
    {
      name: `turns.page.${name}.cuts_in_pause`,
      unit: "%",
      samples: [r.cuts.length ? (100 * inPause) / r.cuts.length : NaN],
      note:
        `${inPause}/${r.cuts.length} maximum-length cuts committed in a pause of the clean speech`,
    },
  ];
}

/**
 * Processing time per second of audio (% of one core) of the page's detector in 128-sample
 * blocks, per take, with the old detector on the same audio as the baseline. The AudioWorklet
 * runs it on the audio thread, so it must stay small.
 */
export async function costRow(tracks: readonly SpeechTrack[]): Promise<Row> {
  const noise = await makeNoise("pink", tracks.reduce((n, t) => n + t.samples.length / RATE, 1), {
    sampleRate: RATE,
  });
  const page: number[] = [];
  const legacy: number[] = [];
  for (const track of tracks) {
    const float = toFloat(mixAtSnr(track, noise, 10).samples);
    const audioMs = (float.length * 1000) / RATE;
    for (let round = 0; round < 3; round++) {
      let started = performance.now();
      runPageDetector(float, RATE);
      page.push((100 * (performance.now() - started)) / audioMs);
      started = performance.now();
      runLegacy(float, RATE);
      legacy.push((100 * (performance.now() - started)) / audioMs);
    }
  }
  return {
    name: "turns.page.cpu_per_audio",
    unit: "% core",
    samples: page,
    baseline: legacy,
    note:
      "page detector CPU per second of 48 kHz audio (3 rounds per take); baseline: old page VAD",
  };
}

/** One noise condition's scores. */
export interface Condition {
  kind: NoiseKind;
  snrDb: number;
  scores: ConditionScores;
}

/**
 * Scores every condition and returns the table rows; `onCondition` sees each condition's scores
 * (the standalone run prints them as one matrix).
 */
export async function measureTurns(
  ctx: BenchContext,
  onCondition?: (c: Condition) => void,
): Promise<Row[]> {
  const takes = ctx.quick ? 3 : 8;
  const tracks = await buildTakes(takes);
  ctx.log(`${takes} takes × ${UTTERANCES_PER_TAKE} utterances per condition`);
  const rows: Row[] = [];
  for (const kind of NOISE_KINDS) {
    for (const snr of SNRS) {
      const started = performance.now();
      const c = await scoreCondition(tracks, kind, snr);
      rows.push(...conditionRows(kind, snr, c));
      onCondition?.({ kind, snrDb: snr, scores: c });
      ctx.log(
        `${kind} ${snr} dB: page ${c.page.found}/${c.page.regions} found, ` +
          `${c.page.falseSplits} splits; server ${c.server_vad.found}, ` +
          `${c.server_vad.falseSplits}; legacy ${c.legacy.found}, ${c.legacy.falseSplits} ` +
          `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }
  rows.push(...lectureRows(await runLecture(0.3), "lecture_pink_10db"));
  rows.push(...lectureRows(await runLecture(0), "lecture_nogap_pink_10db"));
  rows.push(await costRow(tracks));
  return rows;
}

/**
 * The conditions as one Markdown matrix: per detector, found / false splits / false alarms, the
 * median and p90 absolute boundary error, and the signed median start and end errors.
 */
export function formatMatrix(conditions: readonly Condition[]): string {
  const names: Record<DetectorName, string> = {
    page: "page",
    server_vad: "server VAD (emulator)",
    legacy: "old page VAD (baseline)",
  };
  const lines = [
    "| noise | SNR | detector | found | false splits | false alarms | \\|error\\| p50 | p90 | start p50 | end p50 |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const c of conditions) {
    for (const d of DETECTORS) {
      const s = c.scores[d];
      const errors = boundaryErrors(s);
      const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : "—");
      lines.push(
        `| ${c.kind} | ${c.snrDb} dB | ${
          names[d]
        } | ${s.found}/${s.regions} | ${s.falseSplits} | ` +
          `${s.falseAlarms} | ${ms(median(errors))} | ${ms(percentile(errors, 90))} | ` +
          `${ms(median(s.startErrors))} | ${ms(median(s.endErrors))} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Turn-detection benchmark (see module doc). */
export const turns: Benchmark = {
  name: "turns",
  description:
    "turn detection in white/pink/brown/babble noise at 20/10/5 dB: page detector and server VAD vs the old page VAD",
  run: (ctx) => measureTurns(ctx),
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const conditions: Condition[] = [];
  const rows = await measureTurns(
    { quick, log: (m) => console.error(m) },
    (c) => conditions.push(c),
  );
  console.log(formatTable(rows));
  if (Deno.args.includes("--markdown")) {
    console.log(`\n${formatMarkdown(rows)}\n\n${formatMatrix(conditions)}`);
  }
}

/**
 * Speech in noise with known speech regions: noise that sox synthesises (white, pink, brown), a
 * babble of several overlapping espeak-ng voices, and a mixer that sets the speech-to-noise ratio
 * exactly. The turn-detection benchmark (`bench/turn_detection.ts`) scores detectors on this audio,
 * and browser tests play it as the fake microphone.
 *
 * The SNR is the mean power of the speech inside its known regions over the mean power of the
 * noise (over the whole file), in dB. Noise covers the whole file, pauses included, as a room does.
 *
 * Needs `espeak-ng` and `sox` (see `testing/speech.ts`). Noise files are cached by kind, length and
 * rate; sox runs with `-R`, so the same request gives the same noise on every machine run.
 *
 * @module
 */
import { encodeWav, readWav } from "../emulator/audio.ts";
import { defaultDir, makeSpeechWav, run, writeAtomic } from "./speech.ts";

/** The kinds of noise {@linkcode makeNoise} makes. */
export type NoiseKind = "white" | "pink" | "brown" | "babble";

/** Every noise kind, in the order reports list them. */
export const NOISE_KINDS: readonly NoiseKind[] = ["white", "pink", "brown", "babble"];

/** One spoken piece of a {@linkcode SpeechTrack}. */
export interface SpeechPiece {
  /** What is said. */
  text: string;
  /** espeak-ng voice, e.g. `"en-us+f3"` (default `"en"`). */
  voice?: string;
  /** Words per minute (default 175). */
  wordsPerMinute?: number;
  /** Gain of this piece in dB relative to the others (default 0). */
  gainDb?: number;
  /** Silence before this piece, in seconds (for the first: after the lead-in). */
  gapBeforeSec: number;
}

/** Clean speech with its regions, the input of {@linkcode mixAtSnr}. */
export interface SpeechTrack {
  samples: Int16Array;
  sampleRate: number;
  /** Each piece's region, ms from the start. */
  regions: { text: string; startMs: number; endMs: number }[];
}

/** Options shared by the generators. */
export interface NoiseOptions {
  /** Sample rate (default 48000). */
  sampleRate?: number;
  /** Cache directory (default `$TMPDIR/hello-transcription-speech`, as `testing/speech.ts`). */
  dir?: string;
}

/** Texts the babble voices read; each voice starts at a different place and loops. */
const BABBLE_TEXTS = [
  "The committee met on Tuesday to review the budget for the coming year and agreed to postpone the decision on the new building until the spring.",
  "When the train finally arrived, everyone on the platform pushed forward at once, and the conductor had to ask them twice to let the passengers off first.",
  "My grandmother grew tomatoes, beans and a great many onions in the small garden behind her house, and she gave most of them away to the neighbours.",
  "Scientists have measured the temperature of the deep ocean for decades, and the records show a slow but steady rise across every basin they studied.",
  "If you turn left at the bakery and walk for about five minutes, you will see the library on your right, just past the old fire station.",
  "The football match was delayed by heavy rain, but the crowd stayed in their seats and cheered loudly when the players finally came back out.",
];
const BABBLE_VOICES = ["en+m3", "en-us+f2", "en-gb-scotland+m1", "en+f4", "en-029+m2", "en-us+f5"];

/** A short lecture, for continuous speech. */
const LECTURE = [
  "Today we look at how sound travels through the air and why it reaches us at all.",
  "A vibrating object pushes on the air next to it, and that air pushes on the air beyond it.",
  "The wave that results carries energy, but the air itself only moves back and forth a little.",
  "In a room, the sound also bounces off the walls, the floor and the ceiling many times.",
  "Those reflections arrive a few milliseconds after the direct sound and blend with it.",
  "Our ears and brain are very good at separating the direct sound from the echoes.",
  "That is why you can follow a conversation in a busy restaurant, at least most of the time.",
  "Microphones have no such help, which is why a recording of the same room sounds so muddy.",
  "Next week we will measure the reverberation time of this lecture hall together.",
];

/**
 * A lecture: continuous speech, the voice and level of one speaker, `gapSec` between
 * sentences (0.3 s: a speaker who breathes between sentences; 0: none at all).
 */
export function lecturePieces(gapSec = 0.3): SpeechPiece[] {
  return LECTURE.map((text, k) => ({
    text,
    voice: "en",
    wordsPerMinute: 175,
    gainDb: -6,
    gapBeforeSec: k === 0 ? 1.5 : gapSec,
  }));
}

async function readSamples(path: string): Promise<Int16Array> {
  return readWav(await Deno.readFile(path)).samples;
}

/** Reads the trimmed speech of one espeak-ng utterance (no silence around it). */
async function speechOf(
  piece: Omit<SpeechPiece, "gapBeforeSec">,
  sampleRate: number,
  dir: string,
): Promise<Int16Array> {
  const wav = await makeSpeechWav(piece.text, {
    voice: piece.voice ?? "en",
    wordsPerMinute: piece.wordsPerMinute ?? 175,
    padStartSec: 0,
    padEndSec: 0,
    sampleRate,
    dir,
  });
  const samples = await readSamples(wav.path);
  const from = Math.round(wav.speechStartMs * sampleRate / 1000);
  const to = Math.round(wav.speechEndMs * sampleRate / 1000);
  return samples.slice(from, to);
}

/**
 * Lays espeak-ng utterances out on a timeline: each piece after its gap, with its gain.
 *
 * @param pieces The utterances, in order.
 * @param options `tailSec` of silence after the last (default 1.5), rate and cache directory.
 * @returns The clean track and each piece's true region.
 */
export async function makeSpeechTrack(
  pieces: readonly SpeechPiece[],
  options: NoiseOptions & { tailSec?: number } = {},
): Promise<SpeechTrack> {
  if (pieces.length === 0) throw new RangeError("At least one piece is needed");
  const rate = options.sampleRate ?? 48000;
  const dir = options.dir ?? defaultDir();
  await Deno.mkdir(dir, { recursive: true });
  const spoken = await Promise.all(pieces.map((p) => speechOf(p, rate, dir)));
  const at: number[] = [];
  let length = 0;
  for (const [i, p] of pieces.entries()) {
    length += Math.round(p.gapBeforeSec * rate);
    at.push(length);
    length += spoken[i].length;
  }
  const chunk = rate / 50;
  length = Math.ceil((length + Math.round((options.tailSec ?? 1.5) * rate)) / chunk) * chunk;
  const samples = new Int16Array(length);
  const regions: SpeechTrack["regions"] = [];
  for (const [i, p] of pieces.entries()) {
    const gain = Math.pow(10, (p.gainDb ?? 0) / 20);
    const s = spoken[i];
    for (let k = 0; k < s.length; k++) samples[at[i] + k] = clip(s[k] * gain);
    regions.push({
      text: p.text,
      startMs: at[i] * 1000 / rate,
      endMs: (at[i] + s.length) * 1000 / rate,
    });
  }
  return { samples, sampleRate: rate, regions };
}

function clip(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/**
 * Makes (or reuses) `durationSec` of noise at full scale's -20 dBFS or so; its level does not
 * matter, {@linkcode mixAtSnr} rescales it. White, pink and brown come from sox's `synth`; babble
 * is six espeak-ng voices (three male, three female variants) reading different texts, each
 * starting at a different point and looping, summed.
 *
 * @param kind Which noise.
 * @param durationSec Length in seconds.
 * @param options Rate and cache directory.
 * @returns The noise samples.
 */
export async function makeNoise(
  kind: NoiseKind,
  durationSec: number,
  options: NoiseOptions = {},
): Promise<Int16Array> {
  if (!(durationSec > 0)) throw new RangeError("Noise length must be positive");
  const rate = options.sampleRate ?? 48000;
  const dir = options.dir ?? defaultDir();
  await Deno.mkdir(dir, { recursive: true });
  const total = Math.ceil(durationSec * rate);
  const path = `${await Deno.realPath(dir)}/noise-${kind}-${total}-${rate}.wav`;
  try {
    return await readSamples(path);
  } catch {
    // Not cached yet.
  }
  let samples: Int16Array;
  if (kind === "babble") {
    samples = await babble(total, rate, dir);
  } else {
    const tmp = `${path}.${crypto.randomUUID()}.wav`;
    try {
      await run("sox", [
        "-R",
        "-n",
        "-r",
        String(rate),
        "-c",
        "1",
        "-b",
        "16",
        tmp,
        "synth",
        String(total / rate),
        `${kind}noise`,
        "vol",
        "0.25",
      ]);
      samples = (await readSamples(tmp)).slice(0, total);
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  await writeAtomic(path, encodeWav(samples, rate));
  return samples;
}

async function babble(total: number, rate: number, dir: string): Promise<Int16Array> {
  const voices = await Promise.all(
    BABBLE_TEXTS.map((text, i) =>
      speechOf({ text, voice: BABBLE_VOICES[i % BABBLE_VOICES.length] }, rate, dir)
    ),
  );
  const sum = new Float64Array(total);
  for (const [i, v] of voices.entries()) {
    // Each voice loops with a short breath between readings and starts at a different point.
    const period = v.length + Math.round(0.4 * rate);
    const start = Math.floor((i / voices.length) * period);
    for (let n = 0; n < total; n++) {
      const k = (n + start) % period;
      if (k < v.length) sum[n] += v[k];
    }
  }
  let peak = 1;
  for (const x of sum) peak = Math.max(peak, Math.abs(x));
  const out = new Int16Array(total);
  const scale = 16000 / peak;
  for (let n = 0; n < total; n++) out[n] = Math.round(sum[n] * scale);
  return out;
}

/**
 * Level (dBFS) of the loudest 10 ms of a track between two times: below its own loudest 10 ms by
 * 35 dB or more, a stretch of clean speech is a pause.
 */
export function loudestDb(track: SpeechTrack, fromMs: number, toMs: number): number {
  const step = track.sampleRate / 100;
  let loudest = -Infinity;
  const from = Math.max(0, Math.floor((fromMs * track.sampleRate) / 1000));
  const to = Math.min(track.samples.length, Math.ceil((toMs * track.sampleRate) / 1000));
  for (let i = from; i < to; i += step) {
    let sum = 0;
    const end = Math.min(to, i + step);
    for (let k = i; k < end; k++) sum += track.samples[k] * track.samples[k];
    const db = 10 * Math.log10(sum / Math.max(1, end - i) / 32768 ** 2 + 1e-15);
    loudest = Math.max(loudest, db);
  }
  return loudest;
}

/** PCM16 samples as floats in -1..1 (what an AudioWorklet sees). */
export function toFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

/** Mean power of `samples[from, to)`. */
function power(samples: Int16Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return to > from ? sum / (to - from) : 0;
}

/** A mix and how it came out. */
export interface Mix {
  samples: Int16Array<ArrayBuffer>;
  /** The SNR actually reached (equal to the request unless clipping changed it). */
  snrDb: number;
  /** Samples that had to be clipped to 16 bits. */
  clipped: number;
}

/**
 * Adds noise to clean speech so that speech power (inside its regions) over noise power is
 * `snrDb`. The noise is read from `noiseOffset` and loops if it is shorter than the speech.
 *
 * @param track Clean speech with its regions.
 * @param noise Noise samples at the track's rate.
 * @param snrDb Wanted speech-to-noise ratio in dB.
 * @param options `noiseOffset` in samples (default 0).
 * @returns The mixed samples.
 */
export function mixAtSnr(
  track: SpeechTrack,
  noise: Int16Array,
  snrDb: number,
  options: { noiseOffset?: number } = {},
): Mix {
  const rate = track.sampleRate;
  let speechEnergy = 0;
  let speechSamples = 0;
  for (const r of track.regions) {
    const from = Math.round(r.startMs * rate / 1000);
    const to = Math.round(r.endMs * rate / 1000);
    speechEnergy += power(track.samples, from, to) * (to - from);
    speechSamples += to - from;
  }
  const n = track.samples.length;
  const offset = options.noiseOffset ?? 0;
  const used = new Int16Array(n);
  for (let i = 0; i < n; i++) used[i] = noise[(offset + i) % noise.length];
  const noisePower = power(used);
  if (speechSamples === 0 || noisePower === 0) {
    throw new RangeError("Both speech and noise must be audible");
  }
  const gain = Math.sqrt(speechEnergy / speechSamples / noisePower / Math.pow(10, snrDb / 10));
  const samples = new Int16Array(n);
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const v = track.samples[i] + used[i] * gain;
    if (v > 32767 || v < -32768) clipped++;
    samples[i] = clip(v);
  }
  return { samples, snrDb, clipped };
}

/**
 * Writes a mixed take as a WAV file for Chromium's fake microphone (cached by content).
 *
 * @param pieces The utterances.
 * @param noise Which noise, and the SNR.
 * @param options Rate, cache directory, tail.
 * @returns The file path, each utterance's region and the file length in ms.
 */
export async function makeNoisySpeechWav(
  pieces: readonly SpeechPiece[],
  noise: { kind: NoiseKind; snrDb: number },
  options: NoiseOptions & { tailSec?: number } = {},
): Promise<
  { path: string; regions: SpeechTrack["regions"]; durationMs: number }
> {
  const dir = options.dir ?? defaultDir();
  await Deno.mkdir(dir, { recursive: true });
  const track = await makeSpeechTrack(pieces, options);
  const rate = track.sampleRate;
  const noiseSamples = await makeNoise(noise.kind, Math.ceil(track.samples.length / rate) + 1, {
    sampleRate: rate,
    dir,
  });
  const mix = mixAtSnr(track, noiseSamples, noise.snrDb);
  const digest = await crypto.subtle.digest("SHA-256", mix.samples);
  const key = new Uint8Array(digest).toHex().slice(0, 24);
  const path = `${await Deno.realPath(dir)}/noisy-${key}.wav`;
  try {
    await Deno.stat(path);
  } catch {
    await writeAtomic(path, encodeWav(mix.samples, rate));
  }
  return { path, regions: track.regions, durationMs: track.samples.length * 1000 / rate };
}

/**
 * Test speech: WAV files spoken by espeak-ng, padded with digital silence, with their true speech
 * region known to the millisecond. Chromium plays them as a fake microphone
 * (`--use-file-for-fake-audio-capture`, see `testing/browser.ts`), and tests compare what the
 * emulator's VAD finds against the returned region.
 *
 * Needs `espeak-ng` and `sox` on the PATH, and Deno permissions `--allow-run=espeak-ng,sox`,
 * read/write access to the cache directory, and optionally `--allow-env=TMPDIR`.
 *
 * Files are cached by content (text + options), so repeated and parallel tests reuse them.
 *
 * @module
 */

import { encodeWav, readWav } from "../emulator/audio.ts";

/** Options for {@linkcode makeSpeechWav}. */
export interface SpeechWavOptions {
  /** Silence before the speech, in seconds (default 1.5). */
  padStartSec?: number;
  /** Silence after the speech, in seconds, extended so the file is a multiple of 20 ms (default 1.5). */
  padEndSec?: number;
  /** Sample rate of the file (default 48000, what Chromium's fake capture plays natively). */
  sampleRate?: number;
  /** espeak-ng voice (default `"en"`). */
  voice?: string;
  /** espeak-ng speed in words per minute (default 175, espeak's own default). */
  wordsPerMinute?: number;
  /** Gain applied to the speech in dB, e.g. -20 for quiet speech (default 0). */
  gainDb?: number;
  /** Directory for generated files (default `$TMPDIR/hello-transcription-speech`). */
  dir?: string;
}

/** A generated WAV file and where its speech is. */
export interface SpeechWav {
  /** Absolute path of the mono 16-bit WAV file. */
  path: string;
  /** Where speech begins, ms from the start of the file. */
  speechStartMs: number;
  /** Where speech ends, ms from the start of the file. */
  speechEndMs: number;
  /** Length of the file in ms (a multiple of 20). */
  durationMs: number;
}

/** One utterance in a file made by {@linkcode makeUtterancesWav}. */
export interface Utterance {
  /** The text that was spoken. */
  text: string;
  /** Where this utterance begins, ms from the start of the file. */
  speechStartMs: number;
  /** Where this utterance ends, ms from the start of the file. */
  speechEndMs: number;
}

/** A generated multi-utterance WAV file. */
export interface UtterancesWav {
  /** Absolute path of the mono 16-bit WAV file. */
  path: string;
  /** The utterances in order. */
  utterances: Utterance[];
  /** Length of the file in ms (a multiple of 20). */
  durationMs: number;
}

/** Options for {@linkcode makeUtterancesWav}. */
export interface UtterancesWavOptions extends SpeechWavOptions {
  /** Silence between utterances, in seconds (default 1.5). */
  gapSec?: number;
}

/**
 * A sample counts as sound when its magnitude reaches this (-60 dBFS). espeak-ng writes exact
 * zeros around its speech, so this finds the first and last audible sample.
 */
const SOUND_LEVEL = 33;

/** Files are padded to a whole number of these (Chromium plays fake capture in 10/20 ms chunks). */
const CHUNK_MS = 20;

/** The cache directory of generated audio: `$TMPDIR/hello-transcription-speech` (or /tmp's). */
export function defaultDir(): string {
  let tmp = "/tmp";
  try {
    tmp = Deno.env.get("TMPDIR") ?? tmp;
  } catch {
    // No env permission: use /tmp.
  }
  return `${tmp.replace(/\/+$/, "")}/hello-transcription-speech`;
}

/** Runs a tool (espeak-ng, sox) to completion; a clear error when it is missing or fails. */
export async function run(command: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run ${command}: install it (apt-get install -y ${command})`,
      );
    }
    throw error;
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`${command} failed (exit ${output.code}): ${stderr}`);
  }
}

async function cacheKey(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify(value)),
  );
  return new Uint8Array(digest).toHex().slice(0, 24);
}

async function readCached<T>(metaPath: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(metaPath)) as T;
  } catch {
    return undefined;
  }
}

/** Writes a file atomically, so parallel tests never read a half-written one. */
export async function writeAtomic(path: string, data: Uint8Array | string) {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

function checkPad(name: string, value: number) {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of seconds`);
  }
}

/** Speaks `text` and returns the trimmed speech at `sampleRate` (no leading/trailing silence). */
async function speak(
  text: string,
  options: Required<Omit<SpeechWavOptions, "dir">>,
  dir: string,
): Promise<Int16Array> {
  if (text.trim() === "") throw new RangeError("Text must not be empty");
  const id = crypto.randomUUID();
  const raw = `${dir}/${id}.raw.wav`;
  const converted = `${dir}/${id}.conv.wav`;
  try {
    await run("espeak-ng", [
      "-v",
      options.voice,
      "-s",
      String(options.wordsPerMinute),
      "-w",
      raw,
      "--",
      text,
    ]);
    await run("sox", [
      raw,
      "-r",
      String(options.sampleRate),
      "-c",
      "1",
      "-b",
      "16",
      converted,
      "vol",
      `${options.gainDb}dB`,
    ]);
    const { samples } = readWav(await Deno.readFile(converted));
    const threshold = SOUND_LEVEL *
      Math.pow(10, Math.min(0, options.gainDb) / 20);
    let first = 0;
    while (first < samples.length && Math.abs(samples[first]) < threshold) {
      first++;
    }
    let last = samples.length - 1;
    while (last > first && Math.abs(samples[last]) < threshold) last--;
    if (first >= samples.length) {
      throw new Error(`espeak-ng produced no audible speech for "${text}"`);
    }
    return samples.slice(first, last + 1);
  } finally {
    await Deno.remove(raw).catch(() => {});
    await Deno.remove(converted).catch(() => {});
  }
}

function resolveOptions(options: SpeechWavOptions) {
  const resolved = {
    padStartSec: options.padStartSec ?? 1.5,
    padEndSec: options.padEndSec ?? 1.5,
    sampleRate: options.sampleRate ?? 48000,
    voice: options.voice ?? "en",
    wordsPerMinute: options.wordsPerMinute ?? 175,
    gainDb: options.gainDb ?? 0,
  };
  checkPad("padStartSec", resolved.padStartSec);
  checkPad("padEndSec", resolved.padEndSec);
  if (
    !Number.isInteger(resolved.sampleRate) || resolved.sampleRate % 50 !== 0
  ) {
    throw new RangeError("Sample rate must be a multiple of 50 Hz");
  }
  return resolved;
}

/**
 * Generates (or reuses) a WAV file of espeak-ng speaking `text`, with digital silence before and
 * after. The speech region is measured on the audio itself (espeak-ng's own leading and trailing
 * silence is trimmed), so `speechStartMs` / `speechEndMs` are where sound really begins and ends.
 *
 * @example
 * ```ts
 * const wav = await makeSpeechWav("Hello world", { padStartSec: 1.5, padEndSec: 2 });
 * // wav.speechStartMs === 1500
 * ```
 *
 * @param text What to say.
 * @param options Padding, rate, voice, gain, cache directory.
 * @returns The file path and the speech region.
 */
export async function makeSpeechWav(
  text: string,
  options: SpeechWavOptions = {},
): Promise<SpeechWav> {
  const result = await makeUtterancesWav([text], {
    ...options,
    gapSec: 0,
  });
  const [utterance] = result.utterances;
  return {
    path: result.path,
    speechStartMs: utterance.speechStartMs,
    speechEndMs: utterance.speechEndMs,
    durationMs: result.durationMs,
  };
}

/**
 * Generates (or reuses) a WAV file with several utterances: `padStartSec` of silence, then each
 * text separated by `gapSec` of silence, then `padEndSec` (extended to a 20 ms multiple).
 *
 * @example
 * ```ts
 * const wav = await makeUtterancesWav(["First sentence.", "Second sentence."], { gapSec: 1.5 });
 * // wav.utterances[1].speechStartMs is about 1.5 s after wav.utterances[0].speechEndMs
 * ```
 *
 * @param texts What to say, one entry per utterance.
 * @param options Padding, gap, rate, voice, gain, cache directory.
 * @returns The file path and each utterance's region.
 */
export async function makeUtterancesWav(
  texts: string[],
  options: UtterancesWavOptions = {},
): Promise<UtterancesWav> {
  if (texts.length === 0) throw new RangeError("At least one text is needed");
  const resolved = resolveOptions(options);
  const gapSec = options.gapSec ?? 1.5;
  checkPad("gapSec", gapSec);
  const dir = options.dir ?? defaultDir();
  await Deno.mkdir(dir, { recursive: true });
  const key = await cacheKey({ v: 1, texts, gapSec, ...resolved });
  const path = `${await Deno.realPath(dir)}/speech-${key}.wav`;
  const metaPath = `${path}.json`;
  const cached = await readCached<UtterancesWav>(metaPath);
  if (cached) {
    try {
      await Deno.stat(path);
      return { ...cached, path };
    } catch {
      // Metadata without audio: regenerate.
    }
  }
  const rate = resolved.sampleRate;
  const toSamples = (sec: number) => Math.round(sec * rate);
  const parts: Int16Array[] = [];
  const utterances: Utterance[] = [];
  let length = toSamples(resolved.padStartSec);
  parts.push(new Int16Array(length));
  for (const [i, text] of texts.entries()) {
    if (i > 0) {
      parts.push(new Int16Array(toSamples(gapSec)));
      length += toSamples(gapSec);
    }
    const speech = await speak(text, resolved, dir);
    utterances.push({
      text,
      speechStartMs: length * 1000 / rate,
      speechEndMs: (length + speech.length) * 1000 / rate,
    });
    parts.push(speech);
    length += speech.length;
  }
  const chunk = rate * CHUNK_MS / 1000;
  const total = Math.ceil((length + toSamples(resolved.padEndSec)) / chunk) *
    chunk;
  parts.push(new Int16Array(total - length));
  const samples = new Int16Array(total);
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  const result: UtterancesWav = {
    path,
    utterances,
    durationMs: total * 1000 / rate,
  };
  await writeAtomic(path, encodeWav(samples, rate));
  await writeAtomic(metaPath, JSON.stringify(result));
  return result;
}

/** Options for {@linkcode makeSilenceWav}. */
export interface SilenceWavOptions {
  /** Sample rate (default 48000). */
  sampleRate?: number;
  /** Directory for generated files (default `$TMPDIR/hello-transcription-speech`). */
  dir?: string;
}

/**
 * Writes (or reuses) a WAV file of digital silence, rounded up to a multiple of 20 ms.
 *
 * @param durationSec Length in seconds.
 * @param options Rate and directory.
 * @returns The file path and its length; the speech region is empty (start = end = 0).
 */
export async function makeSilenceWav(
  durationSec: number,
  options: SilenceWavOptions = {},
): Promise<SpeechWav> {
  checkPad("durationSec", durationSec);
  const rate = options.sampleRate ?? 48000;
  if (!Number.isInteger(rate) || rate % 50 !== 0) {
    throw new RangeError("Sample rate must be a multiple of 50 Hz");
  }
  const dir = options.dir ?? defaultDir();
  await Deno.mkdir(dir, { recursive: true });
  const chunk = rate * CHUNK_MS / 1000;
  const total = Math.max(1, Math.ceil(durationSec * rate / chunk)) * chunk;
  const path = `${await Deno.realPath(dir)}/silence-${total}-${rate}.wav`;
  try {
    await Deno.stat(path);
  } catch {
    await writeAtomic(path, encodeWav(new Int16Array(total), rate));
  }
  return {
    path,
    speechStartMs: 0,
    speechEndMs: 0,
    durationMs: total * 1000 / rate,
  };
}

/**
 * Concatenates WAV files (mixed to mono, resampled by sox when rates differ) into `outPath`.
 * Useful for files built from separately generated pieces, e.g. speech + noise + speech.
 *
 * @param inputs Paths of 16-bit PCM WAV files, in order.
 * @param outPath Where to write the result.
 * @param options `sampleRate` of the result (default: the first input's rate).
 * @returns The path and total length in ms.
 */
export async function concatWavs(
  inputs: string[],
  outPath: string,
  options: { sampleRate?: number } = {},
): Promise<{ path: string; durationMs: number }> {
  if (inputs.length === 0) throw new RangeError("At least one input is needed");
  const decoded = await Promise.all(
    inputs.map(async (p) => readWav(await Deno.readFile(p))),
  );
  const rate = options.sampleRate ?? decoded[0].sampleRate;
  const parts: Int16Array[] = [];
  for (const [i, audio] of decoded.entries()) {
    if (audio.sampleRate === rate) {
      parts.push(audio.samples);
      continue;
    }
    const tmp = `${outPath}.${crypto.randomUUID()}.wav`;
    try {
      await run("sox", [
        inputs[i],
        "-r",
        String(rate),
        "-c",
        "1",
        "-b",
        "16",
        tmp,
      ]);
      parts.push(readWav(await Deno.readFile(tmp)).samples);
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const samples = new Int16Array(total);
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  await writeAtomic(outPath, encodeWav(samples, rate));
  return { path: outPath, durationMs: total * 1000 / rate };
}

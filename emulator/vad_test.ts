import assert from "node:assert/strict";
import { readWav, resample } from "./audio.ts";
import {
  EAGERNESS_SILENCE_MS,
  effectiveSilenceMs,
  thresholdToDbfs,
  type VadConfig,
  type VadEvent,
  VoiceActivityDetector,
} from "./vad.ts";
import { makeSpeechWav, makeUtterancesWav } from "../testing/speech.ts";

const RATE = 24000;
/** Allowed error between a detected and the true speech boundary. */
const TOLERANCE_MS = 100;

const SERVER_VAD: VadConfig = {
  type: "server_vad",
  threshold: 0.5,
  prefixPaddingMs: 0,
  silenceDurationMs: 500,
};

async function load(path: string, rate = RATE): Promise<Int16Array> {
  const wav = readWav(await Deno.readFile(path));
  return resample(wav.samples, wav.sampleRate, rate);
}

interface Timed {
  event: VadEvent;
  /** `positionMs` when the event was returned. */
  atMs: number;
}

/** Pushes audio in chunks (20 ms by default, like decoded Opus) plus trailing silence. */
function run(
  vad: VoiceActivityDetector,
  samples: Int16Array,
  options: { chunk?: number; tailMs?: number; rate?: number } = {},
): Timed[] {
  const rate = options.rate ?? RATE;
  const chunk = options.chunk ?? rate / 50;
  const out: Timed[] = [];
  const feed = (part: Int16Array) => {
    for (const event of vad.push(part)) {
      out.push({ event, atMs: vad.positionMs });
    }
  };
  for (let i = 0; i < samples.length; i += chunk) {
    feed(samples.subarray(i, i + chunk));
  }
  feed(new Int16Array(Math.round(rate * (options.tailMs ?? 3000) / 1000)));
  return out;
}

function turns(events: Timed[]): { start: number; end: number }[] {
  const result: { start: number; end: number }[] = [];
  for (const { event } of events) {
    if (event.type === "speech_started") {
      result.push({ start: event.audioStartMs, end: NaN });
    } else result[result.length - 1].end = event.audioEndMs;
  }
  return result;
}

function near(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= TOLERANCE_MS,
    `${what}: got ${actual} ms, expected ${expected.toFixed(1)} ms ±${TOLERANCE_MS}`,
  );
}

/** Seeded Gaussian-ish white noise at a given RMS level in dBFS. */
function noise(ms: number, dbfs: number, seed = 1, rate = RATE): Int16Array {
  const out = new Int16Array(Math.round(rate * ms / 1000));
  const amplitude = 32768 * Math.pow(10, dbfs / 20);
  let state = seed;
  const uniform = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let i = 0; i < out.length; i++) {
    // Sum of 12 uniforms has variance 1.
    let s = -6;
    for (let k = 0; k < 12; k++) s += uniform();
    out[i] = Math.max(-32768, Math.min(32767, Math.round(s * amplitude)));
  }
  return out;
}

function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) {
    const v = (a[i] ?? 0) + (b[i] ?? 0);
    out[i] = Math.max(-32768, Math.min(32767, v));
  }
  return out;
}

const SENTENCES = [
  "Hello world, this is a test of the transcription emulator.",
  "The quick brown fox jumps over the lazy dog.",
  "Seven.",
  "Fish shops sell fresh fish.",
];

Deno.test("VAD finds the speech region of espeak-ng sentences within 100 ms", async () => {
  for (const text of SENTENCES) {
    const wav = await makeSpeechWav(text, { padStartSec: 1.5, padEndSec: 1 });
    const vad = new VoiceActivityDetector(SERVER_VAD);
    const found = turns(run(vad, await load(wav.path)));
    assert.equal(found.length, 1, `"${text}": ${JSON.stringify(found)}`);
    near(found[0].start, wav.speechStartMs, `"${text}" start`);
    near(found[0].end, wav.speechEndMs, `"${text}" end`);
    assert.equal(vad.speaking, false);
  }
});

Deno.test("VAD works at 48 kHz and with odd chunk sizes", async () => {
  const wav = await makeSpeechWav(SENTENCES[0], { padStartSec: 0.7 });
  const at48 = await load(wav.path, 48000);
  const reference = turns(
    run(new VoiceActivityDetector(SERVER_VAD, 48000), at48, { rate: 48000 }),
  );
  assert.equal(reference.length, 1);
  near(reference[0].start, wav.speechStartMs, "start at 48 kHz");
  near(reference[0].end, wav.speechEndMs, "end at 48 kHz");
  for (const chunk of [7, 1001, at48.length]) {
    const found = turns(
      run(new VoiceActivityDetector(SERVER_VAD, 48000), at48, {
        rate: 48000,
        chunk,
      }),
    );
    assert.deepEqual(found, reference, `chunk ${chunk}`);
  }
});

Deno.test("VAD moves audio_start_ms earlier by prefix padding, not below 0", async () => {
  const wav = await makeSpeechWav(SENTENCES[3], { padStartSec: 1.5 });
  const samples = await load(wav.path);
  const plain = turns(run(new VoiceActivityDetector(SERVER_VAD), samples));
  const padded = turns(
    run(
      new VoiceActivityDetector({ ...SERVER_VAD, prefixPaddingMs: 300 }),
      samples,
    ),
  );
  assert.equal(padded[0].start, plain[0].start - 300);
  assert.equal(padded[0].end, plain[0].end);

  const early = await makeSpeechWav(SENTENCES[3], { padStartSec: 0.1 });
  const clamped = turns(
    run(
      new VoiceActivityDetector({ ...SERVER_VAD, prefixPaddingMs: 300 }),
      await load(early.path),
    ),
  );
  assert.equal(clamped[0].start, 0);
});

Deno.test("VAD reports the real end of speech, after the silence duration has passed", async () => {
  const wav = await makeSpeechWav(SENTENCES[1], { padStartSec: 1 });
  const samples = await load(wav.path);
  for (const silenceDurationMs of [200, 500, 1200]) {
    const events = run(
      new VoiceActivityDetector({ ...SERVER_VAD, silenceDurationMs }),
      samples,
    );
    const stop = events.find((e) => e.event.type === "speech_stopped");
    assert.ok(stop && stop.event.type === "speech_stopped");
    near(
      stop.event.audioEndMs,
      wav.speechEndMs,
      `end, silence ${silenceDurationMs}`,
    );
    // Emitted once the silence has been pushed (plus at most one 20 ms chunk of latency).
    const waited = stop.atMs - stop.event.audioEndMs;
    assert.ok(
      waited >= silenceDurationMs && waited <= silenceDurationMs + 30,
      `silence ${silenceDurationMs}: emitted ${waited} ms after the end`,
    );
  }
});

Deno.test("VAD splits utterances by silence duration", async () => {
  const wav = await makeUtterancesWav(["Good morning.", "How are you today?"], {
    padStartSec: 1,
    gapSec: 1,
    padEndSec: 1,
  });
  const samples = await load(wav.path);
  const split = turns(
    run(
      new VoiceActivityDetector({ ...SERVER_VAD, silenceDurationMs: 500 }),
      samples,
    ),
  );
  assert.equal(split.length, 2, JSON.stringify(split));
  for (const [i, u] of wav.utterances.entries()) {
    near(split[i].start, u.speechStartMs, `utterance ${i} start`);
    near(split[i].end, u.speechEndMs, `utterance ${i} end`);
  }
  const joined = turns(
    run(
      new VoiceActivityDetector({ ...SERVER_VAD, silenceDurationMs: 1500 }),
      samples,
    ),
  );
  assert.equal(joined.length, 1, JSON.stringify(joined));
  near(joined[0].start, wav.utterances[0].speechStartMs, "joined start");
  near(joined[0].end, wav.utterances[1].speechEndMs, "joined end");
});

Deno.test("semantic_vad maps eagerness to a silence duration", async () => {
  assert.equal(
    effectiveSilenceMs({
      ...SERVER_VAD,
      type: "semantic_vad",
      eagerness: "high",
    }),
    EAGERNESS_SILENCE_MS.high,
  );
  assert.equal(
    effectiveSilenceMs({ ...SERVER_VAD, type: "semantic_vad" }),
    EAGERNESS_SILENCE_MS.medium,
  );
  assert.equal(
    effectiveSilenceMs({ ...SERVER_VAD, silenceDurationMs: 321 }),
    321,
  );
  assert.ok(
    EAGERNESS_SILENCE_MS.high < EAGERNESS_SILENCE_MS.medium &&
      EAGERNESS_SILENCE_MS.medium < EAGERNESS_SILENCE_MS.low,
  );

  const wav = await makeUtterancesWav(["Good morning.", "How are you today?"], {
    padStartSec: 1,
    gapSec: 1,
    padEndSec: 2,
  });
  const samples = await load(wav.path);
  const count = (eagerness: VadConfig["eagerness"]) =>
    turns(
      run(
        new VoiceActivityDetector({
          ...SERVER_VAD,
          type: "semantic_vad",
          silenceDurationMs: 10_000, // ignored by semantic_vad
          eagerness,
        }),
        samples,
      ),
    ).length;
  assert.equal(count("high"), 2);
  assert.equal(count("auto"), 2);
  assert.equal(count("low"), 1);
});

Deno.test("VAD reports nothing for silence, low noise or a click", () => {
  const silence = new VoiceActivityDetector(SERVER_VAD);
  assert.deepEqual(run(silence, new Int16Array(RATE * 5)), []);
  assert.equal(silence.positionMs, 8000);
  assert.equal(silence.speaking, false);

  for (const dbfs of [-70, -55, -48]) {
    assert.deepEqual(
      run(new VoiceActivityDetector(SERVER_VAD), noise(5000, dbfs, 7)),
      [],
      `noise at ${dbfs} dBFS`,
    );
  }

  const click = new Int16Array(RATE * 2);
  click.fill(20000, RATE, RATE + 120); // 5 ms full-scale pulse
  assert.deepEqual(run(new VoiceActivityDetector(SERVER_VAD), click), []);
});

Deno.test("VAD finds speech in low background noise within 100 ms", async () => {
  const wav = await makeSpeechWav(SENTENCES[0], { padStartSec: 1.5 });
  const speech = await load(wav.path);
  const noisy = mix(speech, noise(wav.durationMs, -50, 3));
  const found = turns(run(new VoiceActivityDetector(SERVER_VAD), noisy));
  assert.equal(found.length, 1, JSON.stringify(found));
  near(found[0].start, wav.speechStartMs, "start in noise");
  near(found[0].end, wav.speechEndMs, "end in noise");
});

Deno.test("VAD threshold: 0.5 hears quiet speech, 0.95 rejects it but hears normal speech", async () => {
  assert.equal(thresholdToDbfs(0.5), -41);
  assert.ok(thresholdToDbfs(0.95) > thresholdToDbfs(0.5));
  const quiet = await makeSpeechWav(SENTENCES[1], { gainDb: -20 });
  const normal = await makeSpeechWav(SENTENCES[1]);
  const quietSamples = await load(quiet.path);
  const normalSamples = await load(normal.path);
  const at = (threshold: number, samples: Int16Array) =>
    turns(
      run(new VoiceActivityDetector({ ...SERVER_VAD, threshold }), samples),
    );

  const quietDefault = at(0.5, quietSamples);
  assert.equal(quietDefault.length, 1);
  near(quietDefault[0].start, quiet.speechStartMs, "quiet start");
  near(quietDefault[0].end, quiet.speechEndMs, "quiet end");
  assert.deepEqual(at(0.95, quietSamples), []);
  assert.equal(at(0.95, normalSamples).length, 1);
  // Threshold 0 hears even low noise; 1 hears nothing normal.
  assert.ok(at(0, noise(3000, -55, 5)).length > 0);
  assert.deepEqual(at(1, quietSamples), []);
});

Deno.test("VAD reconfigure takes effect mid-stream and speaking tracks the turn", async () => {
  const wav = await makeSpeechWav(SENTENCES[2], {
    padStartSec: 1,
    padEndSec: 1,
    gainDb: -20,
  });
  const samples = await load(wav.path);
  const vad = new VoiceActivityDetector({ ...SERVER_VAD, threshold: 0.95 });
  assert.deepEqual(run(vad, samples, { tailMs: 0 }), []);
  vad.reconfigure(SERVER_VAD);
  const startSample = Math.round(RATE * wav.speechStartMs / 1000);
  const half = Math.round(RATE * (wav.speechStartMs + wav.speechEndMs) / 2000);
  const first = vad.push(samples.subarray(0, half));
  assert.equal(first.length, 1);
  assert.equal(first[0].type, "speech_started");
  assert.equal(vad.speaking, true);
  const base = samples.length * 1000 / RATE;
  near(
    (first[0] as { audioStartMs: number }).audioStartMs - base,
    startSample * 1000 / RATE,
    "start after reconfigure",
  );
  const rest = vad.push(samples.subarray(half));
  assert.equal(rest.length, 1);
  assert.equal(rest[0].type, "speech_stopped");
  assert.equal(vad.speaking, false);
  assert.ok(Math.abs(vad.positionMs - 2 * base) < 1e-6);
});

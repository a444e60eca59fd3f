import assert from "node:assert/strict";
import { FRAME_MS, TurnDetector, type TurnEvent } from "./turn_detector.js";
import {
  lecturePieces,
  loudestDb,
  makeNoise,
  makeSpeechTrack,
  mixAtSnr,
  type SpeechPiece,
  toFloat,
} from "../testing/noisy_speech.ts";
import { resample } from "../emulator/audio.ts";

const RATE = 48000;

interface Seen {
  event: TurnEvent;
  /** Ms of audio pushed when the event came out. */
  reportedMs: number;
}

/** Pushes audio in `block`-sample pieces (128: an AudioWorklet's render quantum). */
function detect(
  samples: Int16Array,
  options: { rate?: number; block?: number; detector?: TurnDetector } = {},
): Seen[] {
  const rate = options.rate ?? RATE;
  const detector = options.detector ?? new TurnDetector({ sampleRate: rate });
  const block = options.block ?? 128;
  const float = toFloat(samples);
  const seen: Seen[] = [];
  for (let i = 0; i < float.length; i += block) {
    for (const event of detector.push(float.subarray(i, i + block))) {
      seen.push({ event, reportedMs: detector.positionMs });
    }
  }
  return seen;
}

/** Start/end pairs; an open turn runs to `endMs`. */
function turns(seen: Seen[], endMs = Infinity): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const { event } of seen) {
    if (event.type === "start") out.push({ start: event.atMs, end: endMs });
    else out[out.length - 1].end = event.atMs;
  }
  return out;
}

const THREE: SpeechPiece[] = [
  { text: "The quick brown fox jumps over the lazy dog.", gapBeforeSec: 1.5, gainDb: -6 },
  {
    text: "Please send the quarterly report, before noon on Friday.",
    voice: "en-us+f3",
    gapBeforeSec: 1.4,
    gainDb: -10,
  },
  { text: "Yes, I think so.", voice: "en-gb-scotland+m3", gapBeforeSec: 1.2, gainDb: -8 },
];

Deno.test("one turn per utterance in pink noise at 10 dB SNR, boundaries within 150 ms", async () => {
  const track = await makeSpeechTrack(THREE);
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const seen = detect(mixAtSnr(track, noise, 10).samples);
  const found = turns(seen);
  assert.equal(found.length, 3, JSON.stringify(found));
  for (const [i, r] of track.regions.entries()) {
    assert.ok(Math.abs(found[i].start - r.startMs) <= 150, `start ${i}: ${found[i].start}`);
    assert.ok(Math.abs(found[i].end - r.endMs) <= 150, `end ${i}: ${found[i].end}`);
  }
  // Each end comes `silenceMs` (700) after the speech, not sooner and not much later.
  for (const s of seen.filter((s) => s.event.type === "end")) {
    const lag = s.reportedMs - s.event.atMs;
    assert.ok(lag >= 600 && lag <= 720, `end reported ${lag} ms after it`);
    assert.deepEqual(s.event.type === "end" && s.event.reason, "silence");
  }
});

Deno.test("the same turns in every noise kind the benchmark uses, at 20 dB SNR", async () => {
  const track = await makeSpeechTrack(THREE);
  for (const kind of ["white", "pink", "brown", "babble"] as const) {
    const noise = await makeNoise(kind, track.samples.length / RATE + 1);
    const found = turns(detect(mixAtSnr(track, noise, 20).samples));
    assert.equal(found.length, 3, `${kind}: ${JSON.stringify(found)}`);
  }
});

Deno.test("steady noise, a noise that gets 15 dB louder, and clicks start no turn", async () => {
  const pink = await makeNoise("pink", 16);
  const seconds = (s: number) => Math.round(s * RATE);
  for (const kind of ["white", "pink", "brown"] as const) {
    const noise = await makeNoise(kind, 12);
    assert.deepEqual(detect(noise), [], kind);
  }
  // A fan switches on: 5 s of quiet noise, then 10 s of the same noise 15 dB louder.
  const step = new Int16Array(seconds(15));
  for (let i = 0; i < step.length; i++) step[i] = pink[i] * (i < seconds(5) ? 0.05 : 0.28);
  assert.deepEqual(detect(step), []);
  // ... and off again.
  for (let i = 0; i < step.length; i++) step[i] = pink[i] * (i < seconds(5) ? 0.28 : 0.05);
  assert.deepEqual(detect(step), []);
  // Clicks: a 5 ms burst every half second over quiet noise (no minimum speech duration).
  const clicks = new Int16Array(seconds(6));
  let seed = 1;
  for (let i = 0; i < clicks.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const burst = i % seconds(0.5) < seconds(0.005) ? (seed / 2147483648 - 0.5) * 30000 : 0;
    clicks[i] = pink[i] * 0.05 + burst;
  }
  assert.deepEqual(detect(clicks), []);
});

Deno.test("digital silence before the noise (a microphone warming up) is no turn", async () => {
  const track = await makeSpeechTrack([{
    text: "After the silence.",
    gapBeforeSec: 3,
    gainDb: -6,
  }]);
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const mix = mixAtSnr(track, noise, 15).samples;
  mix.fill(0, 0, RATE);
  const found = turns(detect(mix));
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.ok(Math.abs(found[0].start - track.regions[0].startMs) <= 100, String(found[0].start));
});

Deno.test("speech from the first sample in noise is still one turn (its start may come late)", async () => {
  const track = await makeSpeechTrack([
    { text: "Hello, this starts at once.", gapBeforeSec: 0, gainDb: -6 },
    { text: "And here is a second one.", gapBeforeSec: 1.5, gainDb: -6 },
  ]);
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const found = turns(detect(mixAtSnr(track, noise, 10).samples));
  assert.equal(found.length, 2, JSON.stringify(found));
  // In noise the first frames' speech is not told from the noise at once: the start comes late.
  assert.ok(found[0].start < track.regions[0].endMs - 500, String(found[0].start));
  assert.ok(Math.abs(found[0].end - track.regions[0].endMs) <= 150, String(found[0].end));
});

Deno.test("started in the middle of an utterance: it is still a turn, and so is the next", async () => {
  // Clean speech (silence between utterances is exact zeros) from shortly before the first
  // utterance ends: the detector learns speech as noise first, the silence must correct that.
  const track = await makeSpeechTrack([
    { text: "Good morning everyone.", gapBeforeSec: 1, gainDb: 0 },
    { text: "Welcome to the captions test.", gapBeforeSec: 1.5, gainDb: 0 },
  ]);
  for (const beforeEndMs of [200, 500, 800]) {
    const skip = Math.round((track.regions[0].endMs - beforeEndMs) * RATE / 1000);
    const at = (ms: number) => ms - skip * 1000 / RATE;
    const found = turns(detect(track.samples.subarray(skip)));
    const label = JSON.stringify({ beforeEndMs, found });
    // The rest of the first utterance is one turn from the detector's first frame ...
    assert.equal(found.length, 2, label);
    assert.equal(found[0].start, 0, label);
    assert.ok(Math.abs(found[0].end - at(track.regions[0].endMs)) <= 150, label);
    // ... and the next utterance is one turn with its own boundaries.
    assert.ok(Math.abs(found[1].start - at(track.regions[1].startMs)) <= 100, label);
    assert.ok(Math.abs(found[1].end - at(track.regions[1].endMs)) <= 150, label);
  }
});

Deno.test("a continuous talker gets a turn end before every 16 s, committed in a pause", async () => {
  const track = await makeSpeechTrack(lecturePieces(0.3));
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const seen = detect(mixAtSnr(track, noise, 10).samples);
  const durationMs = track.samples.length * 1000 / RATE;
  const found = turns(seen, durationMs);
  assert.ok(found.length >= 3, JSON.stringify(found));
  for (const t of found) assert.ok(t.end - t.start <= 16_000, `turn of ${t.end - t.start} ms`);
  // Turns follow each other: a cut loses no speech.
  for (let i = 1; i < found.length; i++) assert.ok(found[i].start >= found[i - 1].end - 1);
  const peak = loudestDb(track, 0, durationMs);
  const cuts = seen.filter((s) => s.event.type === "end" && s.event.reason === "max_length");
  assert.ok(cuts.length >= 2, `${cuts.length} cuts`);
  for (const c of cuts) {
    // The commit goes out at `reportedMs`: the clean speech is silent around it.
    const level = loudestDb(track, c.reportedMs - 40, c.reportedMs + 40);
    assert.ok(level < peak - 35, `cut at ${c.reportedMs} ms is in sound (${level} dBFS)`);
  }
});

Deno.test("with no pause at all, a turn is still cut within the maximum and a little more", async () => {
  const track = await makeSpeechTrack(lecturePieces(0));
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const seen = detect(mixAtSnr(track, noise, 10).samples);
  const found = turns(seen, track.samples.length * 1000 / RATE);
  assert.ok(found.length >= 3, JSON.stringify(found));
  for (const t of found) assert.ok(t.end - t.start <= 17_000, `turn of ${t.end - t.start} ms`);
});

Deno.test("block size and sample rate change boundaries by at most one frame", async () => {
  const track = await makeSpeechTrack(THREE);
  const noise = await makeNoise("pink", track.samples.length / RATE + 1);
  const mix = mixAtSnr(track, noise, 10).samples;
  const reference = turns(detect(mix));
  const close = (a: typeof reference, label: string) => {
    assert.equal(a.length, reference.length, label);
    for (const [i, t] of a.entries()) {
      assert.ok(Math.abs(t.start - reference[i].start) <= FRAME_MS, `${label} start ${i}`);
      assert.ok(Math.abs(t.end - reference[i].end) <= FRAME_MS, `${label} end ${i}`);
    }
  };
  close(turns(detect(mix, { block: 1000 })), "1000-sample blocks");
  close(turns(detect(mix, { block: mix.length })), "one block");
  for (const rate of [16000, 24000, 44100]) {
    close(turns(detect(resample(mix, RATE, rate), { rate })), `${rate} Hz`);
  }
});

Deno.test("setSilence: a shorter silence ends turns at a pause the default bridges", async () => {
  const track = await makeSpeechTrack([
    { text: "One sentence here.", gapBeforeSec: 1.5, gainDb: -6 },
    { text: "And straight after it, another.", gapBeforeSec: 0.5, gainDb: -6 },
  ]);
  const noise = await makeNoise("white", track.samples.length / RATE + 1);
  const mix = mixAtSnr(track, noise, 20).samples;
  assert.equal(turns(detect(mix)).length, 1);
  const detector = new TurnDetector({ sampleRate: RATE });
  detector.setSilence(300);
  assert.equal(turns(detect(mix, { detector })).length, 2);
  assert.equal(detector.speaking, false);
  assert.ok((detector.lastSpeechMs ?? 0) > track.regions[1].endMs - 200);
});

Deno.test("a sample rate below 8 kHz is refused", () => {
  assert.throws(() => new TurnDetector({ sampleRate: 4000 }), RangeError);
  assert.throws(() => new TurnDetector({ sampleRate: NaN }), RangeError);
});

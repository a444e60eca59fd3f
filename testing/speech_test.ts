import assert from "node:assert/strict";
import { readWav } from "../emulator/audio.ts";
import { concatWavs, makeSilenceWav, makeSpeechWav, makeUtterancesWav } from "./speech.ts";

async function samplesOf(path: string) {
  return readWav(await Deno.readFile(path));
}

function peak(samples: Int16Array, from: number, to: number): number {
  let max = 0;
  for (let i = from; i < to; i++) max = Math.max(max, Math.abs(samples[i]));
  return max;
}

Deno.test("makeSpeechWav pads speech with digital silence and reports its exact region", async () => {
  const wav = await makeSpeechWav("Testing one two three.", {
    padStartSec: 1.5,
    padEndSec: 1,
  });
  const { sampleRate, samples } = await samplesOf(wav.path);
  assert.equal(sampleRate, 48000);
  assert.equal(wav.speechStartMs, 1500);
  assert.equal(wav.durationMs % 20, 0);
  assert.equal(samples.length, wav.durationMs * 48);
  assert.ok(wav.durationMs - wav.speechEndMs >= 1000);
  assert.ok(wav.durationMs - wav.speechEndMs < 1020);
  const start = Math.round(wav.speechStartMs * 48);
  const end = Math.round(wav.speechEndMs * 48);
  assert.equal(peak(samples, 0, start), 0, "silence before the speech");
  assert.equal(peak(samples, end, samples.length), 0, "silence after the speech");
  assert.ok(Math.abs(samples[start]) >= 33, "speech starts at speechStartMs");
  assert.ok(Math.abs(samples[end - 1]) >= 33, "speech ends at speechEndMs");
  assert.ok(peak(samples, start, end) > 10000, "speech is at a normal level");
});

Deno.test("makeSpeechWav caches by text and options", async () => {
  const a = await makeSpeechWav("Cache me.", { padStartSec: 0.5 });
  const stat = await Deno.stat(a.path);
  const b = await makeSpeechWav("Cache me.", { padStartSec: 0.5 });
  assert.deepEqual(b, a);
  assert.deepEqual((await Deno.stat(b.path)).mtime, stat.mtime);
  const c = await makeSpeechWav("Cache me.", { padStartSec: 0.6 });
  assert.notEqual(c.path, a.path);
  assert.equal(c.speechStartMs, 600);
  assert.ok(Math.abs((c.speechEndMs - c.speechStartMs) - (a.speechEndMs - a.speechStartMs)) < 1);
});

Deno.test("makeSpeechWav applies gain and other sample rates", async () => {
  const loud = await makeSpeechWav("Quiet please.", { sampleRate: 24000 });
  const quiet = await makeSpeechWav("Quiet please.", {
    sampleRate: 24000,
    gainDb: -20,
  });
  const a = await samplesOf(loud.path);
  const b = await samplesOf(quiet.path);
  assert.equal(a.sampleRate, 24000);
  assert.equal(quiet.speechStartMs, loud.speechStartMs);
  assert.ok(Math.abs(quiet.speechEndMs - loud.speechEndMs) < 5);
  const ratio = peak(b.samples, 0, b.samples.length) /
    peak(a.samples, 0, a.samples.length);
  assert.ok(Math.abs(ratio - 0.1) < 0.01, `gain ratio ${ratio}`);
});

Deno.test("makeUtterancesWav separates utterances by the gap", async () => {
  const wav = await makeUtterancesWav(["First one.", "Second one."], {
    padStartSec: 1,
    gapSec: 1.5,
    padEndSec: 1,
  });
  const [first, second] = wav.utterances;
  assert.equal(first.text, "First one.");
  assert.equal(first.speechStartMs, 1000);
  assert.ok(Math.abs(second.speechStartMs - first.speechEndMs - 1500) < 1e-6);
  assert.equal(wav.durationMs % 20, 0);
  const { samples } = await samplesOf(wav.path);
  assert.equal(
    peak(samples, Math.round(first.speechEndMs * 48), Math.round(second.speechStartMs * 48)),
    0,
  );
});

Deno.test("makeSilenceWav writes zeros rounded up to 20 ms", async () => {
  const wav = await makeSilenceWav(1.011);
  assert.equal(wav.durationMs, 1020);
  assert.equal(wav.speechStartMs, 0);
  assert.equal(wav.speechEndMs, 0);
  const { samples } = await samplesOf(wav.path);
  assert.equal(samples.length, 1020 * 48);
  assert.equal(peak(samples, 0, samples.length), 0);
});

Deno.test("concatWavs joins files, resampling to the first file's rate", async () => {
  const speech = await makeSpeechWav("Join me.", { padStartSec: 0.2, padEndSec: 0.2 });
  const silence = await makeSilenceWav(0.5, { sampleRate: 16000 });
  const dir = await Deno.makeTempDir();
  try {
    const out = await concatWavs([speech.path, silence.path, speech.path], `${dir}/joined.wav`);
    assert.equal(out.durationMs, 2 * speech.durationMs + 500);
    const { sampleRate, samples } = await samplesOf(out.path);
    assert.equal(sampleRate, 48000);
    assert.equal(samples.length, out.durationMs * 48);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("speech helpers reject bad input", async () => {
  await assert.rejects(makeSpeechWav("   "), RangeError);
  await assert.rejects(makeSpeechWav("Hi", { padStartSec: -1 }), RangeError);
  await assert.rejects(makeSpeechWav("Hi", { sampleRate: 44101 }), RangeError);
  await assert.rejects(makeUtterancesWav([]), RangeError);
  await assert.rejects(makeSilenceWav(Number.NaN), RangeError);
});

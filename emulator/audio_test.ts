import assert from "node:assert/strict";
import {
  base64ToPcm16,
  encodeWav,
  pcm16ToBase64,
  readWav,
  resample,
  samplesToMs,
} from "./audio.ts";

function sine(freq: number, rate: number, seconds: number, amplitude = 10000) {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * freq * i / rate));
  }
  return out;
}

function rms(samples: Int16Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / (to - from));
}

/** Builds a WAV by hand so readWav is not only tested against encodeWav. */
function handWav(options: {
  channels: number;
  rate: number;
  bits?: number;
  format?: number;
  extensible?: boolean;
  frames: number[][];
  extraChunk?: Uint8Array;
  declaredDataSize?: number;
}): Uint8Array {
  const bits = options.bits ?? 16;
  const fmtSize = options.extensible ? 40 : 16;
  const data = new Uint8Array(
    options.frames.length * options.channels * (bits / 8),
  );
  const dv = new DataView(data.buffer);
  options.frames.forEach((frame, i) =>
    frame.forEach((v, c) => {
      if (bits === 16) dv.setInt16((i * options.channels + c) * 2, v, true);
      else dv.setUint8(i * options.channels + c, v);
    })
  );
  const extra = options.extraChunk ?? new Uint8Array();
  const extraPadded = extra.length + (extra.length & 1);
  const size = 12 + 8 + fmtSize + (extra.length ? 8 + extraPadded : 0) + 8 +
    data.length;
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  const ascii = (o: number, s: string) =>
    [...s].forEach((ch, i) => v.setUint8(o + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, size - 8, true);
  ascii(8, "WAVE");
  let o = 12;
  ascii(o, "fmt ");
  v.setUint32(o + 4, fmtSize, true);
  v.setUint16(o + 8, options.extensible ? 0xfffe : options.format ?? 1, true);
  v.setUint16(o + 10, options.channels, true);
  v.setUint32(o + 12, options.rate, true);
  v.setUint32(o + 16, options.rate * options.channels * bits / 8, true);
  v.setUint16(o + 20, options.channels * bits / 8, true);
  v.setUint16(o + 22, bits, true);
  if (options.extensible) {
    v.setUint16(o + 24, 22, true);
    v.setUint16(o + 26, bits, true);
    v.setUint32(o + 28, 0, true);
    v.setUint16(o + 32, options.format ?? 1, true);
  }
  o += 8 + fmtSize;
  if (extra.length) {
    ascii(o, "LIST");
    v.setUint32(o + 4, extra.length, true);
    bytes.set(extra, o + 8);
    o += 8 + extraPadded;
  }
  ascii(o, "data");
  v.setUint32(o + 4, options.declaredDataSize ?? data.length, true);
  bytes.set(data, o + 8);
  return bytes;
}

Deno.test("encodeWav then readWav round-trips mono PCM16", () => {
  const samples = new Int16Array([0, 1, -1, 32767, -32768, 1234]);
  const wav = encodeWav(samples, 24000);
  assert.equal(wav.length, 44 + 12);
  const decoded = readWav(wav);
  assert.equal(decoded.sampleRate, 24000);
  assert.deepEqual(decoded.samples, samples);
});

Deno.test("readWav mixes stereo to mono by averaging", () => {
  const wav = handWav({
    channels: 2,
    rate: 48000,
    frames: [[100, 300], [-1000, 1000], [32767, 32767], [1, 2]],
  });
  const { sampleRate, samples } = readWav(wav);
  assert.equal(sampleRate, 48000);
  assert.deepEqual([...samples], [200, 0, 32767, 2]);
});

Deno.test("readWav skips odd-sized chunks and reads WAVE_FORMAT_EXTENSIBLE", () => {
  const wav = handWav({
    channels: 1,
    rate: 16000,
    extensible: true,
    extraChunk: new Uint8Array([1, 2, 3]),
    frames: [[5], [-5], [7]],
  });
  const { sampleRate, samples } = readWav(wav);
  assert.equal(sampleRate, 16000);
  assert.deepEqual([...samples], [5, -5, 7]);
});

Deno.test("readWav reads a data chunk whose declared size runs past the file", () => {
  const wav = handWav({
    channels: 1,
    rate: 8000,
    frames: [[1], [2], [3]],
    declaredDataSize: 0xffffffff,
  });
  assert.deepEqual([...readWav(wav).samples], [1, 2, 3]);
});

Deno.test("readWav rejects non-WAV data and non-PCM16 encodings", () => {
  assert.throws(
    () => readWav(new TextEncoder().encode("hello, not a wav")),
    /Not a RIFF\/WAVE file/,
  );
  assert.throws(
    () => readWav(handWav({ channels: 1, rate: 8000, bits: 8, frames: [[1]] })),
    /only 16-bit PCM/,
  );
  assert.throws(
    () => readWav(handWav({ channels: 1, rate: 8000, format: 3, frames: [[1]] })),
    /only 16-bit PCM/,
  );
});

Deno.test("resample keeps the length ratio and returns a copy at equal rates", () => {
  const input = sine(440, 48000, 0.5);
  assert.equal(resample(input, 48000, 24000).length, 12000);
  assert.equal(resample(input, 48000, 16000).length, 8000);
  assert.equal(resample(input, 48000, 44100).length, 22050);
  const same = resample(input, 48000, 48000);
  assert.deepEqual(same, input);
  assert.notEqual(same, input);
  assert.throws(() => resample(input, 0, 24000), RangeError);
});

Deno.test("resample preserves an in-band tone (48 kHz to 24 kHz and 22.05 kHz to 24 kHz)", () => {
  for (const [from, to] of [[48000, 24000], [22050, 24000], [24000, 48000]]) {
    const input = sine(1000, from, 1);
    const output = resample(input, from, to);
    const expected = sine(1000, to, 1);
    // Skip the edges, where the filter sees zeros beyond the signal.
    const edge = Math.round(to * 0.01);
    let maxError = 0;
    for (let i = edge; i < output.length - edge; i++) {
      maxError = Math.max(maxError, Math.abs(output[i] - expected[i]));
    }
    assert.ok(
      maxError < 150,
      `${from}->${to}: max error ${maxError} (of 10000)`,
    );
  }
});

Deno.test("resample removes content above the new Nyquist frequency (no aliasing)", () => {
  // 15 kHz cannot exist at 24 kHz; a naive decimator would fold it to 9 kHz at full level.
  const output = resample(sine(15000, 48000, 1), 48000, 24000);
  const level = rms(output, 1000, output.length - 1000);
  assert.ok(level < 100, `residual RMS ${level} (input RMS about 7071)`);
});

Deno.test("pcm16ToBase64 writes little-endian bytes and base64ToPcm16 reverses it", () => {
  const samples = new Int16Array([1, -2]);
  assert.equal(pcm16ToBase64(samples), "AQD+/w==");
  assert.deepEqual(base64ToPcm16("AQD+/w=="), samples);
  const big = sine(300, 24000, 0.1);
  assert.deepEqual(base64ToPcm16(pcm16ToBase64(big)), big);
  // A view into a larger buffer encodes only its own bytes.
  assert.equal(
    pcm16ToBase64(big.subarray(1, 2)),
    pcm16ToBase64(big.slice(1, 2)),
  );
  assert.throws(() => base64ToPcm16("AQID"), /even number of bytes/);
  assert.throws(() => base64ToPcm16("not base64!"), SyntaxError);
});

Deno.test("samplesToMs converts sample counts", () => {
  assert.equal(samplesToMs(24000, 24000), 1000);
  assert.equal(samplesToMs(480, 48000), 10);
});

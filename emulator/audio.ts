/**
 * PCM16 helpers for the emulator's media layer: WAV parsing and writing, sample-rate conversion and
 * base64 encoding of little-endian PCM16 (the Realtime API's `audio/pcm` wire format).
 *
 * @module
 */

/** Decoded PCM16 audio. */
export interface PcmAudio {
  /** Samples per second. */
  sampleRate: number;
  /** Mono samples (multi-channel input is mixed down). */
  samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourCc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

/**
 * Parses a RIFF/WAVE file holding 16-bit PCM and mixes it to mono.
 *
 * Accepts plain PCM and WAVE_FORMAT_EXTENSIBLE with a PCM sub-format. A `data` chunk whose declared
 * size runs past the end of the file (streamed WAVs) is read up to the end of the file.
 *
 * @param bytes The whole file.
 * @returns The sample rate and mono samples.
 * @throws {Error} If the bytes are not a 16-bit PCM WAV file.
 */
export function readWav(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.byteLength < 12 || fourCc(view, 0) !== "RIFF" ||
    fourCc(view, 8) !== "WAVE"
  ) {
    throw new Error("Not a RIFF/WAVE file");
  }
  let channels = 0;
  let sampleRate = 0;
  let bitsPerSample = 0;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourCc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > bytes.byteLength) {
        throw new Error("Truncated WAV fmt chunk");
      }
      let format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bitsPerSample = view.getUint16(body + 14, true);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 26) {
        // The first two bytes of the sub-format GUID carry the real format code.
        format = view.getUint16(body + 24, true);
      }
      if (format !== WAVE_FORMAT_PCM || bitsPerSample !== 16) {
        throw new Error(
          `Unsupported WAV encoding (format ${format}, ${bitsPerSample} bits): only 16-bit PCM is supported`,
        );
      }
      if (channels < 1 || sampleRate < 1) {
        throw new Error("Invalid WAV fmt chunk");
      }
    } else if (id === "data") {
      if (channels === 0) throw new Error("WAV data chunk before fmt chunk");
      const end = Math.min(bytes.byteLength, body + size);
      const frameBytes = 2 * channels;
      const frames = Math.floor((end - body) / frameBytes);
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) {
          sum += view.getInt16(body + i * frameBytes + 2 * c, true);
        }
        samples[i] = Math.round(sum / channels);
      }
      return { sampleRate, samples };
    }
    // Chunks are padded to an even size.
    offset = body + size + (size & 1);
  }
  throw new Error("WAV file has no data chunk");
}

/**
 * Encodes mono PCM16 samples as a canonical 44-byte-header WAV file.
 *
 * @param samples Mono samples.
 * @param sampleRate Samples per second.
 * @returns The WAV file bytes.
 */
export function encodeWav(samples: Int16Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) {
      view.setUint8(offset + i, text.charCodeAt(i));
    }
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + 2 * i, samples[i], true);
  }
  return bytes;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zero crossings of the sinc kernel on each side, at the lower of the two rates. */
const HALF_ZEROS = 16;

function kernel(x: number, cutoff: number, halfWidth: number): number {
  // Windowed sinc: `cutoff` is the low-pass edge relative to the input rate (cycles per sample).
  if (Math.abs(x) >= halfWidth) return 0;
  const w = 0.42 + 0.5 * Math.cos(Math.PI * x / halfWidth) +
    0.08 * Math.cos(2 * Math.PI * x / halfWidth); // Blackman
  if (x === 0) return 2 * cutoff * w;
  return Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x) * w;
}

/**
 * Converts PCM16 between sample rates with a windowed-sinc (band-limited) interpolator, so
 * downsampling does not alias. Output length is `round(samples.length * toRate / fromRate)`.
 *
 * @param samples Mono input samples.
 * @param fromRate Input sample rate in Hz.
 * @param toRate Output sample rate in Hz.
 * @returns The resampled samples (a copy when the rates are equal).
 */
export function resample(
  samples: Int16Array,
  fromRate: number,
  toRate: number,
): Int16Array {
  if (
    !(fromRate > 0) || !(toRate > 0) || !Number.isInteger(fromRate) ||
    !Number.isInteger(toRate)
  ) {
    throw new RangeError("Sample rates must be positive integers");
  }
  if (fromRate === toRate) return samples.slice();
  const outLength = Math.round(samples.length * toRate / fromRate);
  const out = new Int16Array(outLength);
  const step = fromRate / toRate; // input samples per output sample
  // Low-pass at 95 % of the lower Nyquist frequency.
  const cutoff = 0.5 * Math.min(1, toRate / fromRate) * 0.95;
  const halfWidth = HALF_ZEROS * Math.max(1, step); // in input samples
  const g = gcd(fromRate, toRate);
  const phases = toRate / g;
  const taps = 2 * Math.ceil(halfWidth) + 1;
  // Rational ratios repeat every `phases` outputs: precompute those kernels when the table is small.
  let table: Float64Array | null = null;
  if (phases * taps <= 1 << 21) {
    table = new Float64Array(phases * taps);
    for (let p = 0; p < phases; p++) {
      const frac = (p * fromRate / toRate) % 1;
      for (let t = 0; t < taps; t++) {
        const k = t - Math.ceil(halfWidth);
        table[p * taps + t] = kernel(frac - k, cutoff, halfWidth);
      }
    }
  }
  const n = samples.length;
  const center = Math.ceil(halfWidth);
  for (let i = 0; i < outLength; i++) {
    const pos = i * fromRate / toRate;
    const base = Math.floor(pos);
    const frac = pos - base;
    let acc = 0;
    const phaseOffset = table ? (i % phases) * taps : 0;
    for (let t = 0; t < taps; t++) {
      const k = base + t - center;
      if (k < 0 || k >= n) continue;
      const w = table ? table[phaseOffset + t] : kernel(frac - (t - center), cutoff, halfWidth);
      acc += samples[k] * w;
    }
    out[i] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes PCM16 samples as base64 of little-endian bytes (`input_audio_buffer.append` format).
 *
 * @param samples Mono samples.
 * @returns Base64 text.
 */
export function pcm16ToBase64(samples: Int16Array): string {
  if (LITTLE_ENDIAN) {
    return new Uint8Array(
      samples.buffer,
      samples.byteOffset,
      samples.byteLength,
    )
      .toBase64();
  }
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  samples.forEach((s, i) => view.setInt16(2 * i, s, true));
  return bytes.toBase64();
}

/**
 * Decodes base64 of little-endian PCM16 bytes.
 *
 * @param text Base64 text.
 * @returns The samples.
 * @throws {SyntaxError} If the text is not valid base64.
 * @throws {RangeError} If the byte count is odd.
 */
export function base64ToPcm16(text: string): Int16Array {
  const bytes = Uint8Array.fromBase64(text);
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError("PCM16 data must have an even number of bytes");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(bytes.byteLength / 2);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = view.getInt16(2 * i, true);
  }
  return samples;
}

/**
 * Duration of a number of samples, in milliseconds.
 *
 * @param sampleCount Number of samples.
 * @param sampleRate Samples per second.
 * @returns Milliseconds (not rounded).
 */
export function samplesToMs(sampleCount: number, sampleRate: number): number {
  return sampleCount * 1000 / sampleRate;
}

// @ts-check
/**
 * AudioWorklet: input level and an energy voice-activity detector for the page.
 *
 * Works on 20 ms frames. A frame is speech when its level is above both an absolute floor
 * (-55 dBFS) and the tracked noise floor + 12 dB. Speech starts after 3 speech frames in a row and
 * ends after `silenceMs` without a speech frame. Posts to the main thread:
 *
 * - `{ type: "level", level, lastSpeechMs }` every ~50 ms, `level` in 0..1 (-60..0 dBFS),
 *   `lastSpeechMs` the end of the latest speech frame (or null);
 * - `{ type: "speech", speaking: true, atMs }` at speech start (time of its first frame);
 * - `{ type: "speech", speaking: false, atMs }` at speech end (end of the last speech frame).
 *
 * Times are ms of this AudioContext's clock. Send `{ silenceMs }` to retune while running.
 *
 * @module
 */

/** @type {any} */
const G = globalThis;

const FRAME_MS = 20;
const ABSOLUTE_FLOOR_DB = -55;
const ABOVE_NOISE_DB = 12;
const START_FRAMES = 3;

class VadProcessor extends G.AudioWorkletProcessor {
  /** @param {{ processorOptions?: { silenceMs?: number } }} options */
  constructor(options) {
    super();
    const rate = /** @type {number} */ (G.sampleRate);
    this.frameSize = Math.round((rate * FRAME_MS) / 1000);
    this.silenceMs = options?.processorOptions?.silenceMs ?? 700;
    this.sum = 0;
    this.count = 0;
    this.noiseDb = -90;
    this.started = false;
    this.run = 0;
    this.speaking = false;
    this.lastSpeechEndMs = 0;
    this.firstSpeechMs = 0;
    this.levelSum = 0;
    this.levelFrames = 0;
    /** @type {MessagePort} */
    const port = this.port;
    port.onmessage = (/** @type {MessageEvent} */ ev) => {
      if (typeof ev.data?.silenceMs === "number") {
        this.silenceMs = ev.data.silenceMs;
      }
    };
  }

  /**
   * @param {Float32Array[][]} inputs
   * @returns {boolean}
   */
  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    const rate = /** @type {number} */ (G.sampleRate);
    const blockStart = /** @type {number} */ (G.currentFrame);
    for (let i = 0; i < channel.length; i++) {
      this.sum += channel[i] * channel[i];
      if (++this.count === this.frameSize) {
        const endMs = ((blockStart + i + 1) / rate) * 1000;
        this.frame(10 * Math.log10(this.sum / this.count + 1e-12), endMs);
        this.sum = 0;
        this.count = 0;
      }
    }
    return true;
  }

  /**
   * @param {number} db frame level, dBFS
   * @param {number} endMs end of the frame, context time
   */
  frame(db, endMs) {
    const isSpeech = this.started && db > ABSOLUTE_FLOOR_DB &&
      db > this.noiseDb + ABOVE_NOISE_DB;
    // Noise floor: starts at the first frame, follows dips at once, rises 5 dB/s.
    if (!this.started) {
      this.started = true;
      this.noiseDb = Math.max(db, -90);
    } else if (db < this.noiseDb) this.noiseDb = db;
    else this.noiseDb += 0.1;
    this.levelSum += Math.min(1, Math.max(0, (db + 60) / 60));
    if (++this.levelFrames >= 50 / FRAME_MS) {
      this.port.postMessage({
        type: "level",
        level: this.levelSum / this.levelFrames,
        lastSpeechMs: this.lastSpeechEndMs || null,
      });
      this.levelSum = 0;
      this.levelFrames = 0;
    }
    if (isSpeech) {
      if (this.run === 0) this.firstSpeechMs = endMs - FRAME_MS;
      this.run++;
      this.lastSpeechEndMs = endMs;
      if (!this.speaking && this.run >= START_FRAMES) {
        this.speaking = true;
        this.port.postMessage({
          type: "speech",
          speaking: true,
          atMs: this.firstSpeechMs,
        });
      }
    } else {
      this.run = 0;
      if (this.speaking && endMs - this.lastSpeechEndMs >= this.silenceMs) {
        this.speaking = false;
        this.port.postMessage({
          type: "speech",
          speaking: false,
          atMs: this.lastSpeechEndMs,
        });
      }
    }
  }
}

G.registerProcessor("vad", VadProcessor);

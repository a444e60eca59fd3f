// @ts-check
/**
 * AudioWorklet: the input level meter and the page's turn detector (`turn_detector.js`, which
 * decides where turns begin and end; see there for how).
 *
 * Posts to the main thread:
 *
 * - `{ type: "level", level, lastSpeechMs }` every ~60 ms, `level` in 0..1 (-60..0 dBFS),
 *   `lastSpeechMs` the end of the latest speech frame (or null);
 * - `{ type: "speech", speaking: true, atMs }` when a turn starts (where its speech began);
 * - `{ type: "speech", speaking: false, atMs, reason }` when it ends (where its speech ended;
 *   `reason` is `"silence"`, or `"max_length"` when a long turn was cut in a pause, in which case
 *   a new turn may start at once).
 *
 * Times are ms of this AudioContext's clock. Send `{ silenceMs }` to retune while running.
 *
 * @module
 */
import { FRAME_MS, TurnDetector } from "./turn_detector.js";

/** @type {any} */
const G = globalThis;

/** Level messages are sent every this many frames. */
const LEVEL_FRAMES = 3;

class VadProcessor extends G.AudioWorkletProcessor {
  /** @param {{ processorOptions?: { silenceMs?: number, maxTurnMs?: number } }} options */
  constructor(options) {
    super();
    const rate = /** @type {number} */ (G.sampleRate);
    this.detector = new TurnDetector({
      sampleRate: rate,
      silenceMs: options?.processorOptions?.silenceMs ?? 700,
      maxTurnMs: options?.processorOptions?.maxTurnMs ?? 15000,
    });
    /** Context time of the first sample the detector saw, ms (set on the first block). */
    this.originMs = NaN;
    this.frameSize = Math.round((rate * FRAME_MS) / 1000);
    this.sum = 0;
    this.count = 0;
    this.levelSum = 0;
    this.levelFrames = 0;
    /** @type {Float32Array|null} */
    this.silence = null;
    /** @type {MessagePort} */
    const port = this.port;
    port.onmessage = (/** @type {MessageEvent} */ ev) => {
      if (typeof ev.data?.silenceMs === "number") this.detector.setSilence(ev.data.silenceMs);
    };
  }

  /**
   * @param {Float32Array[][]} inputs
   * @returns {boolean}
   */
  process(inputs) {
    const rate = /** @type {number} */ (G.sampleRate);
    if (Number.isNaN(this.originMs)) {
      this.originMs = (/** @type {number} */ (G.currentFrame) / rate) * 1000;
    }
    // A disconnected input still advances the clock: silence keeps the detector's times aligned.
    let channel = inputs[0]?.[0];
    if (!channel) channel = this.silence ??= new Float32Array(128);
    for (const event of this.detector.push(channel)) {
      const atMs = this.originMs + event.atMs;
      if (event.type === "start") {
        this.port.postMessage({ type: "speech", speaking: true, atMs });
      } else {
        this.port.postMessage({ type: "speech", speaking: false, atMs, reason: event.reason });
      }
    }
    for (let i = 0; i < channel.length; i++) {
      this.sum += channel[i] * channel[i];
      if (++this.count === this.frameSize) this.level();
    }
    return true;
  }

  /** One 20 ms frame of level metering done. */
  level() {
    const db = 10 * Math.log10(this.sum / this.count + 1e-12);
    this.sum = 0;
    this.count = 0;
    this.levelSum += Math.min(1, Math.max(0, (db + 60) / 60));
    if (++this.levelFrames < LEVEL_FRAMES) return;
    const last = this.detector.lastSpeechMs;
    this.port.postMessage({
      type: "level",
      level: this.levelSum / this.levelFrames,
      lastSpeechMs: last === null ? null : this.originMs + last,
    });
    this.levelSum = 0;
    this.levelFrames = 0;
  }
}

G.registerProcessor("vad", VadProcessor);

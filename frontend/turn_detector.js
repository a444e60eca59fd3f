// @ts-check
/**
 * The page's turn detector: decides where a person's turns begin and end in microphone audio, so
 * the page can commit each turn (`input_audio_buffer.commit`) for models without server turn
 * detection. Pure computation on samples: no DOM, no audio API, no clock. `vad-worklet.js` runs it
 * in an AudioWorklet; `bench/turn_detection.ts` runs it on the same kind of samples in Deno.
 *
 * How it decides, on 20 ms frames:
 *
 * - **Band-limited energy.** Samples pass a 200 Hz high-pass and a 3.4 kHz low-pass (biquads), the
 *   telephone band where speech has its energy and rumble, hum and hiss have little of theirs; the
 *   band is decimated to about 8 kHz.
 * - **Periodicity.** The peak of the normalised autocorrelation over pitch lags (70–400 Hz) on the
 *   last 40 ms. Vowels score 0.6–0.95; white, pink and brown noise stay below about 0.45.
 * - **Adaptive noise estimate.** The mean and mean deviation (dB) of the frames outside turns
 *   (but not periodic loud ones; digital silence counts as very quiet noise), kept at least 1 dB
 *   above the quietest smoothed band energy of the last 4 s (minimum statistics) and at most 10 dB
 *   above that of its audible frames: it follows a fan that starts (even in the middle of a turn)
 *   or a room that goes quiet, but not the speech itself, and noise that fluctuates (babble)
 *   widens the thresholds. No turn starts in the first 300 ms, while the noise is learned; if
 *   those frames were a talker (the noise then proves 12 dB quieter), the turn is reported from
 *   the first frame.
 * - **Hysteresis.** A frame is *strong* when it is well above the noise (or somewhat above it and
 *   periodic), *weak* when it is a little above it. A turn starts when enough strong frames, some
 *   of them periodic, fall within a short window (a minimum speech duration, so clicks and bumps are
 *   no turn); its start moves back over the weak frames before them. It ends after `silenceMs`
 *   with no strong frame; its end is the last strong frame or the weak tail that follows it, plus
 *   `endPadMs` for the decay that the noise hides.
 * - **Maximum turn length.** Past `maxTurnMs - searchMs` the silence needed to end the turn shrinks
 *   steadily toward one pause between words at `maxTurnMs`, so a continuous talker's turn ends in
 *   the longest pause of its last seconds (between sentences before between words); by
 *   `maxTurnMs + graceMs` any gap will do, then it ends at the quietest frame of the last
 *   `quietLookMs` once the audio is that quiet again, and at `maxTurnMs + 2 · graceMs` wherever it
 *   is. Such an end has `reason: "max_length"`, and a new turn starts at once when the person is
 *   still talking.
 *
 * Times are ms of audio since the first sample pushed.
 *
 * @module
 */

/** Analysis frame length, ms. */
export const FRAME_MS = 20;

/**
 * A turn boundary. `start.atMs` is where speech began; `end.atMs` is where it ended (not when the
 * silence after it was complete); an end is reported `silenceMs` or less after its `atMs`.
 *
 * @typedef {{ type: "start", atMs: number }
 *   | { type: "end", atMs: number, reason: "silence" | "max_length" }} TurnEvent
 */

/**
 * @typedef {object} TurnDetectorOptions
 * @property {number} sampleRate Samples per second of the pushed audio (8000 or more).
 * @property {number} [silenceMs] Silence that ends a turn (default 700).
 * @property {number} [maxTurnMs] A turn ends in a pause once it is this long (default 15000).
 */

/**
 * The tuning. Exported so tests and the benchmark can name what they exercise; the page never
 * changes these.
 */
export const TUNING = Object.freeze({
  /** Pass band of the speech filter, Hz. */
  lowHz: 200,
  highHz: 3400,
  /** Pitch range of the periodicity feature, Hz. */
  minPitchHz: 70,
  maxPitchHz: 400,
  /** Strong frame: this far above the noise mean, dB ... */
  strongDb: 8,
  /** ... or this far when periodic. */
  strongVoicedDb: 4,
  /** Weak frame: this far above the noise mean, dB ... */
  weakDb: 3,
  /** ... or this far when periodic. */
  weakVoicedDb: 1.5,
  /** A frame is periodic at or above this normalised autocorrelation. */
  voiced: 0.55,
  /** A turn starts when this many strong frames ... */
  onsetStrong: 4,
  /** ... of which this many periodic ... */
  onsetVoiced: 2,
  /** ... fall within this many frames. */
  onsetWindow: 8,
  /** The start moves back over weak frames by at most this much, ms. */
  leadMs: 200,
  /** The end moves forward over weak frames by at most this much after the last strong frame, ms. */
  tailMs: 200,
  /**
   * Added to a turn's end: the last 100–150 ms of a word decay below any room's noise, so the
   * frames that can be heard end that much early. (Not added to a cut in the middle of speech.)
   */
  endPadMs: 80,
  /** Thresholds are at least this many mean deviations of the noise above its mean. */
  strongSpread: 4,
  strongVoicedSpread: 2,
  weakSpread: 2,
  weakVoicedSpread: 1,
  /** Weight of a new frame in the noise mean and deviation (about 1 s). */
  noiseSmoothing: 0.05,
  /** No turn starts in the first this many ms: the noise is learned first. */
  warmupMs: 300,
  /**
   * Before the first turn and within this many ms, a noise this many dB below what the warm-up
   * learned means the warm-up heard a talker (see `rescue`).
   */
  rescueWithinMs: 5000,
  rescueDropDb: 12,
  /** The largest deviation one frame adds to the noise's mean deviation, dB. */
  maxDeviationDb: 6,
  /** The noise mean stays within this of the floor (a talker from the first frame is no noise). */
  noiseAboveFloorDb: 10,
  /** Smoothing of the band energy that the noise floor tracks (weight of the new frame). */
  floorSmoothing: 0.3,
  /** The floor is the minimum of the smoothed energy over this many blocks ... */
  floorBlocks: 8,
  /** ... of this many frames each (8 × 25 × 20 ms = 4 s). */
  floorBlockFrames: 25,
  /** Added to that minimum: the minimum of a noise sits below its mean. */
  floorBiasDb: 1,
  /** Frames quieter than this (dBFS in the band) are digital silence: no speech, no floor update. */
  silentDb: -90,
  /** Frames below this are never speech, whatever the noise (dBFS in the band). */
  absoluteDb: -70,
  /** Maximum turn length: the pause-seeking window before `maxTurnMs`, ms. */
  searchMs: 4000,
  /** The shortest pause that ends a long turn (reached at `maxTurnMs`), ms. */
  minPauseMs: 80,
  /** Past `maxTurnMs`, how long to wait for a pause or a quiet frame before cutting, ms. */
  graceMs: 1000,
  /** Past `maxTurnMs + graceMs`, the cut waits for the quietest frame of this much, ms. */
  quietLookMs: 1000,
});

/** A second-order IIR section (RBJ cookbook), direct form I. */
class Biquad {
  /**
   * @param {"lowpass"|"highpass"} kind
   * @param {number} hz corner frequency
   * @param {number} rate sample rate
   */
  constructor(kind, hz, rate) {
    const w = (2 * Math.PI * hz) / rate;
    const cos = Math.cos(w);
    const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
    const a0 = 1 + alpha;
    const b0 = kind === "lowpass" ? (1 - cos) / 2 : (1 + cos) / 2;
    this.b0 = b0 / a0;
    this.b1 = (kind === "lowpass" ? 1 - cos : -(1 + cos)) / a0;
    this.b2 = b0 / a0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.x1 = 0;
    this.x2 = 0;
    this.y1 = 0;
    this.y2 = 0;
  }

  /** @param {number} x */
  step(x) {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 -
      this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/**
 * Finds turns in a stream of mono samples.
 *
 * @example
 * ```js
 * const detector = new TurnDetector({ sampleRate: 48000 });
 * for (const event of detector.push(new Float32Array(4800))) console.log(event);
 * ```
 */
export class TurnDetector {
  /** @param {TurnDetectorOptions} options */
  constructor({ sampleRate, silenceMs = 700, maxTurnMs = 15000 }) {
    if (!Number.isFinite(sampleRate) || sampleRate < 8000) {
      throw new RangeError("Sample rate must be at least 8000 Hz");
    }
    this.rate = sampleRate;
    this.silenceMs = Math.max(FRAME_MS, silenceMs);
    this.maxTurnMs = Math.max(2 * TUNING.searchMs, maxTurnMs);
    this.decimation = Math.max(1, Math.round(sampleRate / 8000));
    const bandRate = sampleRate / this.decimation;
    this.filters = [
      new Biquad("highpass", TUNING.lowHz, sampleRate),
      new Biquad("lowpass", TUNING.highHz, sampleRate),
      new Biquad("lowpass", TUNING.highHz, sampleRate),
    ];
    this.frameLength = Math.round((sampleRate * FRAME_MS) / 1000);
    this.bandLength = Math.ceil(this.frameLength / this.decimation);
    this.minLag = Math.floor(bandRate / TUNING.maxPitchHz);
    this.maxLag = Math.min(2 * this.bandLength - 8, Math.ceil(bandRate / TUNING.minPitchHz));
    /** Band samples of the previous and the current frame. */
    this.window = new Float64Array(2 * this.bandLength);
    this.bandCount = 0;
    this.inFrame = 0;
    this.samples = 0;
    this.frameIndex = 0;
    this.smoothed = NaN;
    /** Per block, the quietest smoothed energy of audible frames, and of all (silence as such). */
    this.blockMin = new Float64Array(TUNING.floorBlocks).fill(Infinity);
    this.blockMinAll = new Float64Array(TUNING.floorBlocks).fill(Infinity);
    /** Per-frame history for look-back: 0 none, 1 weak, 2 strong; and band energy. */
    this.historyLength = Math.ceil(
      Math.max(TUNING.leadMs + TUNING.onsetWindow * FRAME_MS, TUNING.quietLookMs) / FRAME_MS,
    ) + 2;
    this.kinds = new Uint8Array(this.historyLength);
    this.voicedFlags = new Uint8Array(this.historyLength);
    this.levels = new Float64Array(this.historyLength);
    /** Noise level (dBFS in the band) the current frame is measured against. */
    this.noiseDb = /** @type {number} */ (TUNING.silentDb);
    this.noiseMeanDb = NaN;
    /** Mean absolute deviation of the noise, dB. */
    this.noiseDevDb = 1;
    this.noiseFrames = 0;
    this.speaking = false;
    this.turnStartFrame = 0;
    /** Last frame index that is speech (strong, or the weak tail after it). */
    this.lastSpeechFrame = -1;
    this.lastStrongFrame = -1;
    this.tailOpen = false;
    /** Frames before this index belong to an ended turn. */
    this.floorFrame = 0;
    /** Turns started so far, and the noise level right after the warm-up. */
    this.turns = 0;
    this.warmupNoiseDb = NaN;
    /** Set when a long turn ended with the person still talking: the next turn starts at once. */
    this.continueAt = -1;
  }

  /** Ms of audio pushed so far. */
  get positionMs() {
    return (this.samples * 1000) / this.rate;
  }

  /** The end of the latest speech frame, ms, or null before any speech. */
  get lastSpeechMs() {
    return this.lastSpeechFrame < 0 ? null : this.frameEndMs(this.lastSpeechFrame);
  }

  /** @param {number} ms silence that ends a turn, from the next frame on */
  setSilence(ms) {
    if (Number.isFinite(ms)) this.silenceMs = Math.max(FRAME_MS, ms);
  }

  /**
   * Feeds samples in -1..1 (any length; an AudioWorklet's 128-sample blocks are fine).
   *
   * @param {ArrayLike<number>} samples
   * @returns {TurnEvent[]} boundaries found in this audio, in order
   */
  push(samples) {
    /** @type {TurnEvent[]} */
    const events = [];
    const [hp, lp1, lp2] = this.filters;
    const d = this.decimation;
    const base = this.bandLength;
    for (let i = 0; i < samples.length; i++) {
      const y = lp2.step(lp1.step(hp.step(samples[i])));
      if (this.inFrame % d === 0 && this.bandCount < base) {
        this.window[base + this.bandCount++] = y;
      }
      this.samples++;
      if (++this.inFrame === this.frameLength) {
        this.frame(events);
        this.window.copyWithin(0, base);
        this.bandCount = 0;
        this.inFrame = 0;
      }
    }
    return events;
  }

  /** @param {number} index */
  frameEndMs(index) {
    return ((index + 1) * this.frameLength * 1000) / this.rate;
  }

  /** @param {number} index */
  frameStartMs(index) {
    return (index * this.frameLength * 1000) / this.rate;
  }

  /** Band energy (dBFS) and periodicity (0..1) of the frame just completed. */
  features() {
    const w = this.window;
    const n = this.bandCount;
    const base = this.bandLength;
    let energy = 0;
    for (let k = 0; k < n; k++) energy += w[base + k] * w[base + k];
    const db = 10 * Math.log10(energy / Math.max(1, n) + 1e-15);
    let periodicity = 0;
    const total = base + n;
    for (let lag = this.minLag; lag <= this.maxLag; lag++) {
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (let k = 0; k + lag < total; k++) {
        const a = w[k];
        const b = w[k + lag];
        xy += a * b;
        xx += a * a;
        yy += b * b;
      }
      const r = xy / Math.sqrt(xx * yy + 1e-20);
      if (r > periodicity) periodicity = r;
    }
    return { db, periodicity };
  }

  /**
   * Minimum statistics: the quietest smoothed band energy of the last `floorBlocks` blocks, over
   * audible frames and over all (digital silence as `silentDb`), each plus `floorBiasDb`.
   *
   * @param {number} db band energy of this frame
   */
  updateFloor(db) {
    const t = TUNING;
    const index = this.frameIndex;
    const silent = db <= t.silentDb;
    if (!silent) {
      this.smoothed = Number.isNaN(this.smoothed)
        ? db
        : this.smoothed + t.floorSmoothing * (db - this.smoothed);
    }
    const block = Math.floor(index / t.floorBlockFrames) % t.floorBlocks;
    if (index % t.floorBlockFrames === 0) {
      this.blockMin[block] = Infinity;
      this.blockMinAll[block] = Infinity;
    }
    if (!silent) this.blockMin[block] = Math.min(this.blockMin[block], this.smoothed);
    this.blockMinAll[block] = Math.min(
      this.blockMinAll[block],
      silent ? t.silentDb : this.smoothed,
    );
    let audible = Infinity;
    let all = Infinity;
    for (let k = 0; k < t.floorBlocks; k++) {
      audible = Math.min(audible, this.blockMin[k]);
      all = Math.min(all, this.blockMinAll[k]);
    }
    return {
      audible: Number.isFinite(audible) ? audible + t.floorBiasDb : t.silentDb,
      all: Number.isFinite(all) ? all + t.floorBiasDb : t.silentDb,
    };
  }

  /** @param {TurnEvent[]} events */
  frame(events) {
    const t = TUNING;
    const { db, periodicity } = this.features();
    const index = this.frameIndex;
    // Classified against the noise before this frame, so a loud onset cannot raise it first.
    const above = db - this.noiseDb;
    const dev = this.noiseDevDb;
    const voiced = periodicity >= t.voiced;
    const audible = db > t.absoluteDb;
    const strong = audible &&
      (above >= Math.max(t.strongDb, t.strongSpread * dev) ||
        (voiced && above >= Math.max(t.strongVoicedDb, t.strongVoicedSpread * dev)));
    const weak = audible &&
      (above >= Math.max(t.weakDb, t.weakSpread * dev) ||
        (voiced && above >= Math.max(t.weakVoicedDb, t.weakVoicedSpread * dev)));
    // Outside turns every frame but periodic speech teaches the noise (a fan that starts is loud
    // but not periodic).
    this.updateNoise(db, !this.speaking && !(strong && voiced));
    const slot = index % this.historyLength;
    this.kinds[slot] = strong ? 2 : weak ? 1 : 0;
    this.voicedFlags[slot] = voiced ? 1 : 0;
    this.levels[slot] = db;
    if (this.speaking) this.inTurn(events, strong, weak);
    else this.idle(events);
    this.frameIndex++;
  }

  /**
   * The noise the thresholds are measured from: the mean and mean deviation (dB) of the frames
   * outside turns, never below the quietest smoothed energy of the last seconds. The deviation
   * widens the thresholds in noise that fluctuates (babble, traffic); the minimum pulls the mean
   * up within seconds when a louder noise starts, even in the middle of a turn.
   *
   * @param {number} db band energy of this frame
   * @param {boolean} outside the frame is outside any turn and not periodic speech
   */
  updateNoise(db, outside) {
    const t = TUNING;
    const floor = this.updateFloor(db);
    if (Number.isNaN(this.noiseMeanDb)) {
      if (db <= t.silentDb) return;
      this.noiseMeanDb = db;
    } else if (outside) {
      // A plain average over the first frames, then about the last second. Digital silence
      // counts as very quiet noise, so a talker heard from the first frame is forgotten in it.
      const d = Math.max(db, t.silentDb) - this.noiseMeanDb;
      const weight = Math.max(t.noiseSmoothing, 1 / ++this.noiseFrames);
      this.noiseMeanDb += weight * d;
      // A jump in level moves the mean, not the deviation (it is one change, not fluctuation).
      const spread = Math.min(Math.abs(d), t.maxDeviationDb);
      this.noiseDevDb += weight * (spread - this.noiseDevDb);
    }
    this.noiseMeanDb = Math.min(
      Math.max(this.noiseMeanDb, floor.all),
      floor.audible + t.noiseAboveFloorDb,
    );
    this.noiseDb = this.noiseMeanDb;
  }

  /** @param {number} index */
  kindAt(index) {
    return this.kinds[index % this.historyLength];
  }

  /** @param {TurnEvent[]} events */
  idle(events) {
    const t = TUNING;
    const index = this.frameIndex;
    const warmup = Math.round(t.warmupMs / FRAME_MS);
    if (index < warmup) return;
    if (index === warmup) this.warmupNoiseDb = this.noiseDb;
    if (this.rescue(events, index)) return;
    const from = Math.max(this.floorFrame, warmup, index - t.onsetWindow + 1);
    let strong = 0;
    let voiced = 0;
    let first = -1;
    for (let k = from; k <= index; k++) {
      if (this.kindAt(k) === 2) {
        strong++;
        if (this.voicedFlags[k % this.historyLength]) voiced++;
        if (first < 0) first = k;
      }
    }
    const continuing = this.continueAt >= 0;
    if (!(strong >= t.onsetStrong && voiced >= t.onsetVoiced) && !(continuing && strong > 0)) {
      if (continuing && index - this.continueAt > t.onsetWindow) this.continueAt = -1;
      return;
    }
    let start = first;
    if (continuing) start = Math.max(first, this.continueAt);
    else {
      const earliest = Math.max(
        this.floorFrame,
        warmup,
        first - Math.round(t.leadMs / FRAME_MS),
        index - this.historyLength + 1,
      );
      while (start - 1 >= earliest && this.kindAt(start - 1) >= 1) start--;
    }
    this.continueAt = -1;
    this.turns++;
    this.speaking = true;
    this.turnStartFrame = start;
    this.lastStrongFrame = index;
    this.lastSpeechFrame = index;
    this.tailOpen = true;
    events.push({ type: "start", atMs: this.frameStartMs(start) });
  }

  /**
   * A talker heard from the first frame is learned as noise. When, before any turn, the noise
   * then falls far below what the first frames taught, they were speech: a turn from the first
   * frame to the last frame that is loud against the real noise (if it is still in the history).
   *
   * @param {TurnEvent[]} events
   * @param {number} index this frame
   * @returns {boolean} a turn started
   */
  rescue(events, index) {
    const t = TUNING;
    if (this.turns > 0 || index * FRAME_MS > t.rescueWithinMs) return false;
    if (!(this.warmupNoiseDb - this.noiseDb >= t.rescueDropDb)) return false;
    const loud = this.noiseDb + Math.max(t.strongDb, t.strongSpread * this.noiseDevDb);
    const oldest = Math.max(0, index - this.historyLength + 1);
    let last = -1;
    for (let k = index; k >= oldest && last < 0; k--) {
      if (this.levels[k % this.historyLength] >= loud) last = k;
    }
    if (last < 0) return false;
    this.turns++;
    this.speaking = true;
    this.turnStartFrame = 0;
    this.lastStrongFrame = last;
    this.lastSpeechFrame = last;
    this.tailOpen = false;
    events.push({ type: "start", atMs: 0 });
    return true;
  }

  /**
   * @param {TurnEvent[]} events
   * @param {boolean} strong
   * @param {boolean} weak
   */
  inTurn(events, strong, weak) {
    const t = TUNING;
    const index = this.frameIndex;
    if (strong) {
      this.lastStrongFrame = index;
      this.lastSpeechFrame = index;
      this.tailOpen = true;
    } else if (
      this.tailOpen && weak && (index - this.lastStrongFrame) * FRAME_MS <= t.tailMs
    ) {
      this.lastSpeechFrame = index;
    } else {
      this.tailOpen = false;
    }
    const quietMs = (index - this.lastSpeechFrame) * FRAME_MS;
    const turnMs = (index + 1 - this.turnStartFrame) * FRAME_MS;
    if (quietMs >= this.silenceNeeded(turnMs)) {
      this.end(events, this.lastSpeechFrame, quietMs < this.silenceMs);
      return;
    }
    if (turnMs < this.maxTurnMs + t.graceMs) return;
    // No pause for too long: cut at the quietest recent frame once the audio is that quiet again.
    const look = Math.round(t.quietLookMs / FRAME_MS);
    let quietest = Infinity;
    for (let k = index - look + 1; k < index; k++) {
      quietest = Math.min(quietest, this.levels[k % this.historyLength]);
    }
    const db = this.levels[index % this.historyLength];
    if (db <= quietest || turnMs >= this.maxTurnMs + 2 * t.graceMs) {
      this.end(events, index, true);
      this.continueAt = index + 1;
    }
  }

  /**
   * The silence that ends a turn of this length: `silenceMs` until `maxTurnMs - searchMs`, then
   * shrinking steadily to one pause between words (`minPauseMs`) at `maxTurnMs`, then to one
   * quiet frame at `maxTurnMs + graceMs`. So a long turn ends in the longest pause the talker
   * makes in its last seconds, as soon as the pause has lasted long enough to be sure of it.
   *
   * @param {number} turnMs
   */
  silenceNeeded(turnMs) {
    const t = TUNING;
    const into = turnMs - (this.maxTurnMs - t.searchMs);
    if (into <= 0) return this.silenceMs;
    const min = Math.min(this.silenceMs, t.minPauseMs);
    // The longest pauses come first: between sentences, then between phrases, then words.
    if (into <= t.searchMs) return this.silenceMs + ((min - this.silenceMs) * into) / t.searchMs;
    // Past the maximum: any gap between sounds will do, down to one quiet frame.
    const late = Math.min(1, (into - t.searchMs) / t.graceMs);
    return min + (FRAME_MS - min) * late;
  }

  /**
   * @param {TurnEvent[]} events
   * @param {number} lastFrame last speech frame of the turn
   * @param {boolean} long the turn ended because of its length
   */
  end(events, lastFrame, long) {
    this.speaking = false;
    this.floorFrame = lastFrame + 1;
    // Padded only into audio already heard as quiet, never past this frame.
    const pad = Math.min(TUNING.endPadMs, (this.frameIndex - lastFrame) * FRAME_MS);
    events.push({
      type: "end",
      atMs: this.frameEndMs(lastFrame) + pad,
      reason: long ? "max_length" : "silence",
    });
  }
}

/**
 * An energy-based voice activity detector that stands in for the Realtime API's `server_vad` and
 * `semantic_vad` turn detection.
 *
 * It works on 10 ms frames. A frame is "loud" when its RMS level reaches the onset level derived
 * from `threshold` (see {@linkcode thresholdToDbfs}); a frame is "voiced" when it reaches a level
 * {@linkcode HYSTERESIS_DB} dB lower. A turn starts once {@linkcode MIN_LOUD_FRAMES} loud frames fall
 * within {@linkcode CONFIRM_WINDOW_MS}, which rejects clicks. Turn boundaries are then refined with
 * the lower "voiced" level (bounded look-back and look-ahead), so quiet onsets such as /h/ and
 * decaying word endings are included. The voiced level is kept {@linkcode NOISE_MARGIN_DB} above the
 * noise floor (the quietest frame of the last second), so steady background noise does not stretch
 * a turn.
 *
 * It is an approximation of OpenAI's model-based VAD: a loud non-speech sound of 30 ms or more
 * (a door, music) counts as speech here.
 *
 * @module
 */

/** Turn-detection settings, mirroring `session.audio.input.turn_detection`. */
export interface VadConfig {
  /** `semantic_vad` is approximated by a silence duration chosen from `eagerness`. */
  type: "server_vad" | "semantic_vad";
  /**
   * 0..1, OpenAI semantics: higher needs louder audio. Mapped to an onset level in dBFS by
   * {@linkcode thresholdToDbfs}.
   */
  threshold: number;
  /** `audio_start_ms` is moved earlier by this much (not below 0). */
  prefixPaddingMs: number;
  /** Silence needed to end a turn (`server_vad`). */
  silenceDurationMs: number;
  /** `semantic_vad` only; see {@linkcode EAGERNESS_SILENCE_MS}. */
  eagerness?: "low" | "medium" | "high" | "auto";
}

/** A turn boundary found by {@linkcode VoiceActivityDetector.push}. */
export type VadEvent =
  | { type: "speech_started"; audioStartMs: number }
  | {
    type: "speech_stopped";
    /** Where speech really ended (the end of the last voiced frame). */
    audioEndMs: number;
    /**
     * Where the silence that ended the turn was complete: the end of the frame on which the turn
     * was detected as over, i.e. `audioEndMs` plus the effective silence duration (rounded up to
     * whole 10 ms frames). This is the "end of audio sent to the model" reading of
     * `audio_end_ms`.
     */
    silenceEndMs: number;
  };

/** Analysis frame length. */
export const FRAME_MS = 10;
/** The "voiced" level is this many dB below the onset level. */
export const HYSTERESIS_DB = 14;
/** Loud frames needed within {@linkcode CONFIRM_WINDOW_MS} to start a turn. */
export const MIN_LOUD_FRAMES = 3;
/** Window in which {@linkcode MIN_LOUD_FRAMES} loud frames must occur. */
export const CONFIRM_WINDOW_MS = 100;
/** How far the start of a turn may be moved back over voiced (not loud) frames. */
export const MAX_LEAD_MS = 150;
/** How far the end of a turn may be moved forward over voiced (not loud) frames. */
export const MAX_TAIL_MS = 200;
/** The "voiced" level stays at least this far above the noise floor. */
export const NOISE_MARGIN_DB = 6;
/** The noise floor is the quietest frame in this window (speech has pauses much shorter). */
export const NOISE_WINDOW_MS = 1000;
/** Noise-floor minima are kept per block of this many frames. */
const NOISE_BLOCK_FRAMES = 10;
const NOISE_BLOCKS = NOISE_WINDOW_MS / FRAME_MS / NOISE_BLOCK_FRAMES;

/**
 * Silence durations used for `semantic_vad`, which has no silence setting of its own. OpenAI's
 * semantic VAD ends a turn sooner or later depending on whether the words sound finished; with no
 * language model here, `eagerness` just picks how long a pause ends a turn: `high` = 300 ms,
 * `medium` and `auto` = 700 ms, `low` = 1500 ms.
 */
export const EAGERNESS_SILENCE_MS: Readonly<
  Record<NonNullable<VadConfig["eagerness"]>, number>
> = { low: 1500, medium: 700, auto: 700, high: 300 };

/**
 * Maps the OpenAI `threshold` (0..1) to the frame level (dBFS, RMS over 10 ms) that counts as loud
 * speech: `-64 + 46 * threshold`. So 0 → -64 dBFS, 0.5 (default) → -41 dBFS, 0.8 → -27.2 dBFS,
 * 0.95 → -20.3 dBFS, 1 → -18 dBFS.
 *
 * Why these numbers: espeak-ng speech at full volume (about the level of microphone speech after
 * Chromium's automatic gain control) has vowels at -16 … -10 dBFS per frame. 0.5 detects it with a
 * wide margin and ignores noise up to about -45 dBFS; 0.95 still detects it but rejects the same
 * speech 20 dB quieter (peaks near -31 dBFS), as OpenAI's high thresholds reject quiet speech.
 *
 * @param threshold OpenAI threshold, clamped to 0..1 (non-numbers count as 0.5).
 * @returns The onset level in dBFS.
 */
export function thresholdToDbfs(threshold: number): number {
  const t = Math.min(
    1,
    Math.max(0, Number.isFinite(threshold) ? threshold : 0.5),
  );
  return -64 + 46 * t;
}

/**
 * The silence that ends a turn for a configuration: `silenceDurationMs` for `server_vad`, the
 * {@linkcode EAGERNESS_SILENCE_MS} entry for `semantic_vad`.
 *
 * @param config Turn-detection settings.
 * @returns Milliseconds.
 */
export function effectiveSilenceMs(config: VadConfig): number {
  if (config.type === "semantic_vad") {
    return EAGERNESS_SILENCE_MS[config.eagerness ?? "auto"] ??
      EAGERNESS_SILENCE_MS.auto;
  }
  return Math.max(0, config.silenceDurationMs);
}

/** Frames of history kept for look-back (covers {@linkcode MAX_LEAD_MS} plus the confirm window). */
const HISTORY_FRAMES = Math.ceil((MAX_LEAD_MS + CONFIRM_WINDOW_MS) / FRAME_MS) +
  2;

/**
 * Detects speech turns in a stream of mono PCM16.
 *
 * Times are milliseconds of audio since the first sample pushed, as in the Realtime API's
 * `audio_start_ms` / `audio_end_ms`:
 *
 * - `speech_started.audioStartMs` is where speech really began minus `prefixPaddingMs` (not below
 *   0), because the committed item includes that padding. It is emitted once the turn is confirmed,
 *   about 30-100 ms of audio after the onset.
 * - `speech_stopped.audioEndMs` is where speech really ended (the end of the last voiced frame),
 *   NOT that point plus the silence. It is emitted only after `silenceDurationMs` of silence has
 *   been pushed, at `silenceEndMs` (= `audioEndMs` + the silence, in whole frames). The `openai`
 *   7.59.0 type comment on `InputAudioBufferSpeechStoppedEvent.audio_end_ms` says the value
 *   "includes the `min_silence_duration_ms`", i.e. `silenceEndMs`; the engine reports one or the
 *   other (emulator option `speechStoppedAudioEnd`).
 *
 * @example
 * ```ts
 * const vad = new VoiceActivityDetector({
 *   type: "server_vad",
 *   threshold: 0.5,
 *   prefixPaddingMs: 300,
 *   silenceDurationMs: 500,
 * });
 * for (const event of vad.push(new Int16Array(2400))) console.log(event);
 * ```
 */
export class VoiceActivityDetector {
  #config!: VadConfig;
  #onsetDb = 0;
  #voicedDb = 0;
  #silenceMs = 0;
  readonly #sampleRate: number;
  readonly #frameLength: number;
  /** Samples of an incomplete frame carried to the next push. */
  readonly #pending: Int16Array;
  #pendingLength = 0;
  #totalSamples = 0;
  /** Index of the next frame to analyse. */
  #frameIndex = 0;
  /** Levels (dBFS) of the most recent frames, ring buffer indexed by frame index. */
  readonly #history = new Float64Array(HISTORY_FRAMES);
  #speaking = false;
  /** Idle: frame indices of recent loud frames (inside the confirm window). */
  #loudFrames: number[] = [];
  /** Speaking: index of the last loud frame. */
  #lastLoudFrame = -1;
  /** Speaking: exclusive end frame of the voiced region after the last loud frame. */
  #endFrame = 0;
  /** Speaking: whether the voiced tail after the last loud frame is still unbroken. */
  #tailOpen = false;
  /** Frames before this index belong to a finished turn and cannot start a new one. */
  #floorFrame = 0;
  /** Quietest frame level per block, ring buffer, so steady noise is not taken as a voiced edge. */
  readonly #blockMinDb = new Float64Array(NOISE_BLOCKS).fill(Infinity);

  /**
   * @param config Turn-detection settings.
   * @param sampleRate Rate of the pushed samples (default 24000, the Realtime API's PCM rate).
   */
  constructor(config: VadConfig, sampleRate = 24000) {
    if (!Number.isFinite(sampleRate) || sampleRate < 1000) {
      throw new RangeError("Sample rate must be at least 1000 Hz");
    }
    this.#sampleRate = sampleRate;
    this.#frameLength = Math.round(sampleRate * FRAME_MS / 1000);
    this.#pending = new Int16Array(this.#frameLength);
    this.#history.fill(-Infinity);
    this.reconfigure(config);
  }

  /** True while inside a detected speech turn. */
  get speaking(): boolean {
    return this.#speaking;
  }

  /** Total ms of audio pushed so far. */
  get positionMs(): number {
    return this.#totalSamples * 1000 / this.#sampleRate;
  }

  /**
   * Changes the settings; takes effect from the next frame. A turn in progress continues.
   *
   * @param config Turn-detection settings.
   */
  reconfigure(config: VadConfig): void {
    this.#config = { ...config };
    this.#onsetDb = thresholdToDbfs(config.threshold);
    this.#voicedDb = this.#onsetDb - HYSTERESIS_DB;
    this.#silenceMs = effectiveSilenceMs(config);
  }

  /**
   * Feeds mono PCM16 samples.
   *
   * @param samples Audio at the constructor's sample rate; any length.
   * @returns Events found in this audio, in order. Times are ms from the first sample ever pushed.
   */
  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    this.#totalSamples += samples.length;
    let offset = 0;
    if (this.#pendingLength > 0) {
      const take = Math.min(
        this.#frameLength - this.#pendingLength,
        samples.length,
      );
      this.#pending.set(samples.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      offset = take;
      if (this.#pendingLength < this.#frameLength) return events;
      this.#frame(this.#pending, events);
      this.#pendingLength = 0;
    }
    while (offset + this.#frameLength <= samples.length) {
      this.#frame(
        samples.subarray(offset, offset + this.#frameLength),
        events,
      );
      offset += this.#frameLength;
    }
    const rest = samples.length - offset;
    if (rest > 0) {
      this.#pending.set(samples.subarray(offset));
      this.#pendingLength = rest;
    }
    return events;
  }

  #frameMs(index: number): number {
    return Math.round(index * this.#frameLength * 1000 / this.#sampleRate);
  }

  #level(index: number): number {
    return this.#history[index % HISTORY_FRAMES];
  }

  #frame(frame: Int16Array, events: VadEvent[]): void {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
    const rms = Math.sqrt(sum / frame.length) / 32768;
    const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    const index = this.#frameIndex++;
    this.#history[index % HISTORY_FRAMES] = db;
    const block = Math.floor(index / NOISE_BLOCK_FRAMES) % NOISE_BLOCKS;
    if (index % NOISE_BLOCK_FRAMES === 0) this.#blockMinDb[block] = db;
    else this.#blockMinDb[block] = Math.min(this.#blockMinDb[block], db);
    let noiseDb = Infinity;
    for (const m of this.#blockMinDb) noiseDb = Math.min(noiseDb, m);
    // Never above the onset level, so loud frames always count as voiced.
    const voicedDb = Math.min(
      this.#onsetDb,
      Math.max(this.#voicedDb, noiseDb + NOISE_MARGIN_DB),
    );
    const loud = db >= this.#onsetDb;
    const voiced = db >= voicedDb;
    if (!this.#speaking) {
      const windowFrames = CONFIRM_WINDOW_MS / FRAME_MS;
      while (
        this.#loudFrames.length > 0 &&
        index - this.#loudFrames[0] >= windowFrames
      ) {
        this.#loudFrames.shift();
      }
      if (!loud) return;
      this.#loudFrames.push(index);
      if (this.#loudFrames.length < MIN_LOUD_FRAMES) return;
      // Confirmed: move the start back over voiced frames before the first loud one.
      let start = this.#loudFrames[0];
      const earliest = Math.max(
        this.#floorFrame,
        start - MAX_LEAD_MS / FRAME_MS,
        index - HISTORY_FRAMES + 1,
      );
      while (start - 1 >= earliest && this.#level(start - 1) >= voicedDb) {
        start--;
      }
      this.#speaking = true;
      this.#loudFrames = [];
      this.#lastLoudFrame = index;
      this.#endFrame = index + 1;
      this.#tailOpen = true;
      const startMs = this.#frameMs(start);
      events.push({
        type: "speech_started",
        audioStartMs: Math.max(0, startMs - this.#config.prefixPaddingMs),
      });
      return;
    }
    if (loud) {
      this.#lastLoudFrame = index;
      this.#endFrame = index + 1;
      this.#tailOpen = true;
    } else if (
      this.#tailOpen && voiced &&
      (index - this.#lastLoudFrame) * FRAME_MS <= MAX_TAIL_MS
    ) {
      this.#endFrame = index + 1;
    } else {
      this.#tailOpen = false;
    }
    const endMs = this.#frameMs(this.#endFrame);
    // At least one frame of silence, so a zero setting still needs a quiet frame to end the turn.
    if (
      this.#frameMs(index + 1) - endMs >= Math.max(FRAME_MS, this.#silenceMs)
    ) {
      this.#speaking = false;
      this.#floorFrame = this.#endFrame;
      events.push({
        type: "speech_stopped",
        audioEndMs: endMs,
        silenceEndMs: this.#frameMs(index + 1),
      });
    }
  }
}

/**
 * One Realtime Translation session (a WebRTC translation call or a `/v1/realtime/translations`
 * WebSocket). It cannot translate and does not pretend to: input audio is consumed in 200 ms frames
 * and run through the same VAD as transcription sessions to find speech segments; each segment's
 * "translation" is the next text queued for the session's output language (control API), else a
 * marked placeholder `[es · speech 1.8 s]`; its source transcript (only with
 * `audio.input.transcription`) is the next transcription-queue text, else `[speech 1.8 s]`. The
 * text streams word by word while the segment lasts and ends once it is over, and a tone (or
 * silence) stands in for the translated speech over the segment's span, all shifted by
 * `translationDelayMs`. Every event carries `elapsed_ms`: the model time (ms of input audio) at
 * the end of the 200 ms frame that produced it.
 *
 * @module
 */
import { type EngineHost, SessionCore } from "./session_core.ts";
import {
  inputTranscriptDelta,
  outputAudioDelta,
  outputTranscriptDelta,
  sessionClosed,
  type TranslationEventBody,
  translationSessionEvent,
} from "./translation_events.ts";
import {
  inputTranscription,
  outputLanguage,
  type TranslationSessionObject,
} from "./translation_schema.ts";
import { placeholder, splitDeltas, translationPlaceholder } from "./transcripts.ts";
import { VoiceActivityDetector } from "./vad.ts";

/** The Translation API consumes input audio in frames of this length. */
export const TRANSLATION_FRAME_MS = 200;
const SAMPLE_RATE = 24000;
const FRAME_SAMPLES = SAMPLE_RATE * TRANSLATION_FRAME_MS / 1000;
/** Silence that ends a speech segment (the live model has no turns; this only groups text). */
export const SEGMENT_SILENCE_MS = 500;
/** The stand-in for translated speech. */
const TONE_HZ = 440;
const TONE_AMPLITUDE = 6000;

/** Where a session's translated speech goes. */
export type AudioOutput =
  /** As `session.output_audio.delta` events (WebSocket sessions). */
  | "events"
  /** To a WebRTC peer's outgoing track: called with every 200 ms frame, silence included. */
  | ((pcm24k: Int16Array) => void);

/** One text stream of a segment (translated or source text). */
interface TextStream {
  /** The queued text, or null until the placeholder is made at the segment's end. */
  text: string | null;
  chunks: string[];
  sent: number;
  done: boolean;
  /** Put before the first chunk: a space after earlier text of the same stream. */
  prefix: string;
  /** Lag behind the source audio. */
  lagMs: number;
}

/** One detected stretch of speech. */
interface Segment {
  startMs: number;
  endMs: number | null;
  /** Model time at which the end became known (VAD silence complete, or close). */
  endKnownAt: number | null;
  language: string;
  output: TextStream;
  input: TextStream | null;
}

/** A translation session; see the module comment. */
export class TranslationSession extends SessionCore<TranslationEventBody> {
  #config: TranslationSessionObject;
  #vad = new VoiceActivityDetector({
    type: "server_vad",
    threshold: 0.5,
    prefixPaddingMs: 0,
    silenceDurationMs: SEGMENT_SILENCE_MS,
  });
  #audioOut: AudioOutput;
  #pending = new Int16Array(FRAME_SAMPLES);
  #pendingLength = 0;
  #elapsedMs = 0;
  #samples = 0;
  #segments: Segment[] = [];
  #current: Segment | null = null;
  #outputStarted = false;
  #inputStarted = false;
  #closing = false;

  /**
   * @param host The emulator's options and queues.
   * @param config The effective session (id and `expires_at` are filled here).
   * @param id Session id.
   * @param queueKeys Ids whose per-call queues are used (the call id).
   * @param audioOut Where translated speech goes.
   */
  constructor(
    host: EngineHost,
    config: TranslationSessionObject,
    id: string,
    queueKeys: string[],
    audioOut: AudioOutput,
  ) {
    super(host, id, queueKeys);
    this.#config = {
      ...config,
      id,
      expires_at: this.createdAt + host.options.sessionMaxSeconds,
    };
    this.#audioOut = audioOut;
  }

  /** The effective session object. */
  get config(): TranslationSessionObject {
    return this.#config;
  }

  /** Model time so far: ms of input audio consumed, a multiple of 200. */
  get elapsedMs(): number {
    return this.#elapsedMs;
  }

  /** Whether `session.close` was handled (input is ignored from then on). */
  get closing(): boolean {
    return this.#closing;
  }

  /** Replaces the configuration (already validated); later segments use the new language. */
  setConfig(config: TranslationSessionObject): void {
    this.#config = { ...config, id: this.id, expires_at: this.#config.expires_at };
  }

  /** `session.updated` with `config` (default: the current one), to every connection. */
  emitUpdated(config: TranslationSessionObject = this.#config): void {
    this.emit(translationSessionEvent("session.updated", config));
  }

  /** Feeds 24 kHz mono PCM16; every complete 200 ms frame is processed at once. */
  pushAudio(pcm: Int16Array): void {
    if (this.ended || this.#closing) return;
    this.#samples += pcm.length;
    this.stats.audioMs = this.#samples * 1000 / SAMPLE_RATE;
    let offset = 0;
    while (offset < pcm.length) {
      const n = Math.min(FRAME_SAMPLES - this.#pendingLength, pcm.length - offset);
      this.#pending.set(pcm.subarray(offset, offset + n), this.#pendingLength);
      this.#pendingLength += n;
      offset += n;
      if (this.#pendingLength === FRAME_SAMPLES) {
        this.#processFrame(this.#pending);
        this.#pending = new Int16Array(FRAME_SAMPLES);
        this.#pendingLength = 0;
      }
    }
  }

  /**
   * `session.close`: processes the pending partial frame (padded with silence), ends the current
   * segment, sends all remaining text at once, then `session.closed`. The caller then closes the
   * connection or call.
   */
  close(): void {
    if (this.ended || this.#closing) return;
    if (this.#pendingLength > 0) {
      this.#processFrame(this.#pending);
      this.#pendingLength = 0;
    }
    this.#closing = true;
    const now = this.#elapsedMs;
    if (this.#current) {
      this.#current.endMs = now;
      this.#current.endKnownAt = now;
      this.#current = null;
    }
    for (const seg of this.#segments) {
      this.#release(seg, seg.output, true);
      if (seg.input) this.#release(seg, seg.input, true);
    }
    this.#segments = [];
    this.emit(sessionClosed());
  }

  #processFrame(frame: Int16Array): void {
    const frameStart = this.#elapsedMs;
    for (const e of this.#vad.push(frame)) {
      if (e.type === "speech_started") this.#startSegment(e.audioStartMs);
      else if (this.#current) {
        this.#current.endMs = e.audioEndMs;
        this.#current.endKnownAt = e.silenceEndMs;
        this.#current = null;
      }
    }
    this.#elapsedMs = frameStart + TRANSLATION_FRAME_MS;
    for (const seg of this.#segments) {
      this.#release(seg, seg.output, false);
      if (seg.input) this.#release(seg, seg.input, false);
    }
    this.#speak(frameStart, this.#elapsedMs);
    const delay = this.host.options.translationDelayMs;
    this.#segments = this.#segments.filter((s) =>
      !(s.output.done && (s.input?.done ?? true) && s.endMs !== null &&
        this.#elapsedMs >= s.endMs + delay)
    );
  }

  #startSegment(startMs: number): void {
    const language = outputLanguage(this.#config);
    const text = this.host.transcripts.take(this.queueKeys, language);
    const seg: Segment = {
      startMs,
      endMs: null,
      endKnownAt: null,
      language,
      output: this.#stream(text, this.#outputStarted, this.host.options.translationDelayMs),
      input: null,
    };
    this.#outputStarted = true;
    if (inputTranscription(this.#config)) {
      seg.input = this.#stream(this.host.transcripts.take(this.queueKeys), this.#inputStarted, 0);
      this.#inputStarted = true;
    }
    this.stats.utterances++;
    this.#current = seg;
    this.#segments.push(seg);
  }

  #stream(text: string | null, after: boolean, lagMs: number): TextStream {
    return {
      text,
      chunks: text === null ? [] : splitDeltas(text),
      sent: 0,
      done: false,
      prefix: after ? " " : "",
      lagMs,
    };
  }

  /** Sends what is due of one stream at the current model time (everything when `all`). */
  #release(seg: Segment, stream: TextStream, all: boolean): void {
    if (stream.done) return;
    const now = this.#elapsedMs;
    const over = seg.endMs !== null && seg.endKnownAt !== null && now >= seg.endKnownAt &&
      now >= seg.endMs + stream.lagMs;
    if (all || over) {
      if (stream.text === null) {
        const duration = (seg.endMs ?? now) - seg.startMs;
        stream.text = stream === seg.output
          ? translationPlaceholder(seg.language, duration)
          : placeholder(duration);
        stream.chunks = [stream.text];
      }
      while (stream.sent < stream.chunks.length) this.#sendChunk(seg, stream);
      stream.done = true;
      if (stream === seg.output) this.stats.completed++;
      return;
    }
    if (stream.text === null) return;
    const due = Math.min(
      stream.chunks.length - 1,
      Math.floor(
        (now - seg.startMs - stream.lagMs) / this.host.options.streamingWordIntervalMs,
      ),
    );
    while (stream.sent < due) this.#sendChunk(seg, stream);
  }

  #sendChunk(seg: Segment, stream: TextStream): void {
    const i = stream.sent++;
    const delta = (i === 0 ? stream.prefix : "") + stream.chunks[i];
    const now = this.#elapsedMs;
    this.emit(
      stream === seg.output ? outputTranscriptDelta(delta, now) : inputTranscriptDelta(delta, now),
    );
  }

  /** Translated "speech" for the frame [from, to): tone where a delayed segment span covers it. */
  #speak(from: number, to: number): void {
    const delay = this.host.options.translationDelayMs;
    const pcm = new Int16Array(FRAME_SAMPLES);
    const amplitude = this.host.options.translationOutputAudio === "tone" ? TONE_AMPLITUDE : 0;
    let speaking = false;
    for (const seg of this.#segments) {
      const a = Math.max(from, seg.startMs + delay);
      const b = Math.min(to, (seg.endMs ?? Infinity) + delay);
      if (a >= b) continue;
      speaking = true;
      const first = Math.round((a - from) * SAMPLE_RATE / 1000);
      const last = Math.round((b - from) * SAMPLE_RATE / 1000);
      const base = Math.round(from * SAMPLE_RATE / 1000);
      for (let i = first; i < last; i++) {
        pcm[i] = Math.round(amplitude * Math.sin(2 * Math.PI * TONE_HZ * (base + i) / SAMPLE_RATE));
      }
    }
    if (this.#audioOut === "events") {
      if (speaking) this.emit(outputAudioDelta(pcm, to));
    } else {
      this.#audioOut(pcm);
    }
  }
}

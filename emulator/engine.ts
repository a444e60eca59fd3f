/**
 * The per-session state machine: input audio buffer, VAD, items, scripted
 * transcripts and fan-out of server events to every attached connection
 * (WebRTC data channel, sidebands, `?intent=`/`?model=` WebSockets).
 *
 * @module
 */
import type {
  RealtimeServerEvent,
  SessionCreatedEvent,
} from "npm:openai@7.57.0/resources/realtime/realtime";
import { eventId, itemId } from "./ids.ts";
import * as ev from "./events.ts";
import { Transcriber } from "./transcriber.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Faults } from "./faults.ts";
import {
  type EffectiveSession,
  type SchemaContext,
  STREAMING_MODELS,
  transcriptionModel,
} from "./session_schema.ts";
import { splitDeltas, type TranscriptQueue } from "./transcripts.ts";
import { type VadConfig, VoiceActivityDetector } from "./vad.ts";

/** A connection that receives server events. */
export interface Sink {
  /** Unique id (for the control API). */
  readonly id: string;
  /** Connection kind. */
  readonly kind: "datachannel" | "sideband" | "websocket";
  /** Sends one server event (JSON text). */
  send(event: Record<string, unknown>): void;
  /** Closes the connection with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
}

/** What the engine needs from the emulator. */
export interface EngineHost {
  options: ResolvedOptions;
  transcripts: TranscriptQueue;
  faults: Faults;
  schema: SchemaContext;
}

/** A server event before `event_id` is added (see `events.ts` for typed builders). */
export type ServerEventBody = { type: RealtimeServerEvent["type"] };

/** The session object carried by `session.created` / `session.updated`. */
export type SessionObject = SessionCreatedEvent["session"];

/** Counters shown by `GET /_emulator/calls`. */
export interface SessionStats {
  audioMs: number;
  utterances: number;
  completed: number;
  failed: number;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** One Realtime session (a WebRTC/SIP call or a WebSocket session). */
export class Session {
  /** Session id `sess_…`. */
  readonly id: string;
  /** Ids used to look up per-call transcript queues (call id and session id). */
  readonly queueKeys: string[];
  /** Attached connections. */
  readonly sinks = new Set<Sink>();
  /** Counters. */
  readonly stats: SessionStats = {
    audioMs: 0,
    utterances: 0,
    completed: 0,
    failed: 0,
  };
  /** Unix seconds of creation. */
  readonly createdAt = Math.floor(Date.now() / 1000);
  /** Whether the session has ended. */
  ended = false;
  /** Called once when the session ends (reason: hangup, expired, closed…). */
  onEnd: (reason: string) => void = () => {};
  #config: EffectiveSession;
  #host: EngineHost;
  #vad: VoiceActivityDetector;
  #timers = new Set<number>();
  #posSamples = 0;
  #bufferStartSamples = 0;
  #pendingItem: string | null = null;
  #speechStartMs = 0;
  #speechEndMs: number | null = null;
  #suppressStop = false;
  #lastItem: string | null = null;
  #streamText: string | null = null;
  #streamChunks: string[] = [];
  #streamSent = 0;
  #transcriber: Transcriber;

  /** Creates a session from an effective config (id and expires_at are filled here). */
  constructor(
    host: EngineHost,
    config: EffectiveSession,
    id: string,
    queueKeys: string[] = [],
  ) {
    this.#host = host;
    this.id = id;
    this.queueKeys = [...queueKeys, id];
    this.#config = {
      ...config,
      id,
      expires_at: this.createdAt + host.options.sessionMaxSeconds,
    } as EffectiveSession;
    this.#vad = new VoiceActivityDetector(this.#vadConfig());
    this.#transcriber = new Transcriber({
      host,
      queueKeys: this.queueKeys,
      stats: this.stats,
      emit: (body) => this.emit(body),
      later: (fn, ms) => this.#later(fn, ms),
      cancel: (timer) => {
        clearTimeout(timer);
        this.#timers.delete(timer);
      },
      config: () => this.#config,
    });
    this.#later(() => this.expire(), host.options.sessionMaxSeconds * 1000);
  }

  /** The effective session object (server representation). */
  get config(): EffectiveSession {
    return this.#config;
  }

  /** Replaces the configuration (after validation) and reconfigures the VAD. */
  setConfig(config: EffectiveSession): void {
    this.#config = {
      ...config,
      id: this.id,
      expires_at: this.#config.expires_at,
    } as EffectiveSession;
    this.#vad.reconfigure(this.#vadConfig());
  }

  #vadConfig(): VadConfig {
    const td: Json = this.#config.audio?.input?.turn_detection;
    if (td?.type === "semantic_vad") {
      return {
        type: "semantic_vad",
        threshold: 0.5,
        prefixPaddingMs: 300,
        silenceDurationMs: 500,
        eagerness: td.eagerness,
      };
    }
    return {
      type: "server_vad",
      threshold: td?.threshold ?? 0.5,
      prefixPaddingMs: td?.prefix_padding_ms ?? 300,
      silenceDurationMs: td?.silence_duration_ms ??
        this.#host.options.defaultSilenceDurationMs,
    };
  }

  #later(fn: () => void, ms: number): number {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.ended) fn();
    }, Math.max(0, ms));
    this.#timers.add(t);
    return t;
  }

  /** Runs `fn` after `ms` unless the session has ended by then. */
  schedule(fn: () => void, ms: number): void {
    this.#later(fn, ms);
  }

  /** Attaches a connection; events emitted from now on reach it. */
  attach(sink: Sink, sendCreated: boolean): void {
    this.sinks.add(sink);
    if (sendCreated) {
      this.sendTo(
        sink,
        ev.sessionEvent("session.created", this.#config as SessionObject),
      );
    }
  }

  /** Detaches a connection (the session keeps running). */
  detach(sink: Sink): void {
    this.sinks.delete(sink);
  }

  /** Sends one event to every attached connection. */
  emit(body: ServerEventBody): void {
    const event = { event_id: eventId(), ...body };
    for (const s of this.sinks) s.send(event);
  }

  /** Sends one event to a single connection. */
  sendTo(sink: Sink, body: ServerEventBody): void {
    sink.send({ event_id: eventId(), ...body });
  }

  /** Sends an `error` event to `sink` (or to everyone when configured/`sink` is null). */
  error(
    sink: Sink | null,
    code: string | null,
    message: string,
    param: string | null = null,
    clientEventId: string | null = null,
    type = "invalid_request_error",
  ): void {
    const body = ev.error({
      type,
      code,
      message,
      param,
      event_id: clientEventId,
    });
    if (sink && !this.#host.options.broadcastErrors) this.sendTo(sink, body);
    else this.emit(body);
  }

  #model(): string | null {
    return transcriptionModel(this.#config);
  }

  #streaming(): boolean {
    const m = this.#model();
    return m !== null && STREAMING_MODELS.includes(m);
  }

  /** Whether VAD boundaries are reported and auto-commit turns. */
  #vadTurns(): boolean {
    return this.#config.audio?.input?.turn_detection != null;
  }

  /**
   * Whether speech boundaries are reported without committing: only `gpt-live-transcribe` with
   * `liveTranscribeSpeechEvents` (reports say it sends none; unverified).
   */
  #speechEventsOnly(): boolean {
    return !this.#vadTurns() && this.#model() === "gpt-live-transcribe" &&
      this.#host.options.liveTranscribeSpeechEvents;
  }

  #bufferMs(): number {
    return (this.#posSamples - this.#bufferStartSamples) / 24;
  }

  /** Feeds 24 kHz mono PCM16 into the input audio buffer and the VAD. */
  pushAudio(pcm: Int16Array): void {
    if (this.ended) return;
    this.#posSamples += pcm.length;
    this.stats.audioMs = this.#posSamples / 24;
    for (const ev of this.#vad.push(pcm)) {
      if (ev.type === "speech_started") this.#onSpeechStarted(ev.audioStartMs);
      else this.#onSpeechStopped(ev.audioEndMs, ev.silenceEndMs);
    }
    if (this.#streaming() && this.#vad.speaking && this.#pendingItem) {
      this.#streamProgress();
    }
  }

  #onSpeechStarted(audioStartMs: number): void {
    this.#pendingItem ??= itemId();
    this.#speechStartMs = audioStartMs;
    this.#speechEndMs = null;
    this.#suppressStop = false;
    if (this.#vadTurns() || this.#speechEventsOnly()) {
      this.emit(ev.speechStarted(this.#pendingItem, audioStartMs));
    }
    if (this.#streaming() && this.#streamText === null) {
      this.#streamText = this.#host.transcripts.take(this.queueKeys);
      this.#streamChunks = this.#streamText === null ? [] : splitDeltas(this.#streamText);
      this.#streamSent = 0;
    }
  }

  /** `audioEndMs`: where speech ended; `silenceEndMs`: where the turn-ending silence did. */
  #onSpeechStopped(audioEndMs: number, silenceEndMs: number): void {
    this.#speechEndMs = audioEndMs;
    if (this.#suppressStop) {
      this.#suppressStop = false;
      return;
    }
    const reportOnly = this.#speechEventsOnly();
    if ((!this.#vadTurns() && !reportOnly) || !this.#pendingItem) return;
    const item = this.#pendingItem;
    const reported = this.#host.options.speechStoppedAudioEnd === "speech_end"
      ? audioEndMs
      : silenceEndMs;
    this.emit(ev.speechStopped(item, reported));
    if (!reportOnly) this.#commitItem(item, audioEndMs - this.#speechStartMs);
  }

  /** Streaming models: one word per `streamingWordIntervalMs` of speech; the last waits for commit. */
  #streamProgress(): void {
    const item = this.#pendingItem;
    if (!item || this.#streamText === null) return;
    const due = Math.min(
      this.#streamChunks.length - 1,
      Math.floor(
        (this.#posSamples / 24 - this.#speechStartMs) /
          this.#host.options.streamingWordIntervalMs,
      ),
    );
    while (this.#streamSent < due) {
      this.#transcriber.emitDelta(item, this.#streamChunks[this.#streamSent++]);
    }
  }

  /** Handles `input_audio_buffer.commit` from a client. */
  commit(from: Sink | null, clientEventId: string | null): void {
    const ms = this.#bufferMs();
    if (ms < 100) {
      this.error(
        from,
        "input_audio_buffer_commit_empty",
        `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${
          ms.toFixed(2)
        }ms of audio.`,
        null,
        clientEventId,
      );
      return;
    }
    const item = this.#pendingItem ?? itemId();
    let duration = ms;
    if (this.#pendingItem) {
      const end = this.#speechEndMs ?? this.#posSamples / 24;
      duration = end - this.#speechStartMs;
      if (this.#vad.speaking) this.#suppressStop = true;
    }
    this.#commitItem(item, duration);
  }

  /** Handles `input_audio_buffer.clear`. */
  clear(): void {
    this.#bufferStartSamples = this.#posSamples;
    if (this.#vad.speaking) this.#suppressStop = true;
    this.#resetTurn();
    this.emit(ev.cleared());
  }

  #resetTurn(): void {
    this.#pendingItem = null;
    this.#speechEndMs = null;
    this.#streamText = null;
    this.#streamChunks = [];
    this.#streamSent = 0;
  }

  #commitItem(item: string, durationMs: number): void {
    const previous = this.#lastItem;
    this.#lastItem = item;
    this.#bufferStartSamples = this.#posSamples;
    this.stats.utterances++;
    this.emit(ev.committed(item, previous));
    this.emit(ev.itemEvent("conversation.item.added", item, previous));
    this.emit(ev.itemEvent("conversation.item.done", item, previous));
    const model = this.#model();
    const streamed = this.#streamText !== null
      ? {
        text: this.#streamText,
        chunks: this.#streamChunks,
        sent: this.#streamSent,
      }
      : null;
    this.#resetTurn();
    if (model === null) return;
    this.#transcriber.transcribe(item, model, durationMs, streamed);
  }

  /** Ends the session with `session_expired` + close 1001 on every connection. */
  expire(): void {
    if (this.ended) return;
    const minutes = this.#host.options.sessionMaxSeconds / 60;
    const span = Number.isInteger(minutes)
      ? `${minutes} minutes`
      : `${this.#host.options.sessionMaxSeconds} seconds`;
    this.error(
      null,
      "session_expired",
      `Your session hit the maximum duration of ${span}.`,
    );
    this.end("expired", 1001, "invalid_request_error.session_expired");
  }

  /** Ends the session: cancels timers and closes every connection. */
  end(reason: string, code = 1000, closeReason = ""): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of [...this.sinks]) s.close(code, closeReason);
    this.sinks.clear();
    this.onEnd(reason);
  }
}

/**
 * The per-session state machine: input audio buffer, VAD, items, scripted
 * transcripts and fan-out of server events to every attached connection
 * (WebRTC data channel, sidebands, `?intent=`/`?model=` WebSockets).
 *
 * @module
 */
import type { RealtimeServerEvent, SessionCreatedEvent } from "../lib/openai_types.ts";
import { itemId } from "./ids.ts";
import * as ev from "./events.ts";
import { Transcriber } from "./transcriber.ts";
import { type EngineHost, SessionCore, type Sink } from "./session_core.ts";
import { type EffectiveSession, STREAMING_MODELS, transcriptionModel } from "./session_schema.ts";
import { splitDeltas } from "./transcripts.ts";
import { type VadConfig, VoiceActivityDetector } from "./vad.ts";

export type { EngineHost, SessionStats, Sink } from "./session_core.ts";

/** A server event before `event_id` is added (see `events.ts` for typed builders). */
export type ServerEventBody = { type: RealtimeServerEvent["type"] };

/** The session object carried by `session.created` / `session.updated`. */
export type SessionObject = SessionCreatedEvent["session"];

// deno-lint-ignore no-explicit-any
type Json = any;

/** How many committed items `conversation.item.retrieve` can still find. */
const MAX_RETRIEVABLE_ITEMS = 1000;

/** One Realtime session (a WebRTC/SIP call or a WebSocket session). */
export class Session extends SessionCore<ServerEventBody> {
  #config: EffectiveSession;
  #vad: VoiceActivityDetector;
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
  /** Committed items (id → transcript, null until completed), oldest first, for retrieve. */
  #items = new Map<string, string | null>();

  /** Creates a session from an effective config (id and expires_at are filled here). */
  constructor(
    host: EngineHost,
    config: EffectiveSession,
    id: string,
    queueKeys: string[] = [],
  ) {
    super(host, id, queueKeys);
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
      later: (fn, ms) => this.later(fn, ms),
      cancel: (timer) => this.cancel(timer),
      config: () => this.#config,
      transcribed: (item, text) => {
        if (this.#items.has(item)) this.#items.set(item, text);
      },
    });
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
        this.host.options.defaultSilenceDurationMs,
    };
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
      this.host.options.liveTranscribeSpeechEvents;
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
      this.#streamText = this.host.transcripts.take(this.queueKeys);
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
    const reported = this.host.options.speechStoppedAudioEnd === "speech_end"
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
          this.host.options.streamingWordIntervalMs,
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

  /**
   * Handles `conversation.item.retrieve`: `conversation.item.retrieved` with the item (its
   * transcript once completed) to the asking connection, or an `error` for an unknown item.
   */
  retrieve(from: Sink, itemId: unknown, clientEventId: string | null): void {
    if (typeof itemId !== "string") {
      this.error(
        from,
        "missing_required_parameter",
        "Missing required parameter: 'item_id'.",
        "item_id",
        clientEventId,
      );
      return;
    }
    if (!this.#items.has(itemId)) {
      this.error(
        from,
        "item_not_found",
        `Item with item_id '${itemId}' not found.`,
        "item_id",
        clientEventId,
      );
      return;
    }
    this.sendTo(from, ev.itemRetrieved(itemId, this.#items.get(itemId) ?? null));
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
    this.#items.set(item, null);
    // Bounded, so hour-long sessions keep constant memory; older items are "not found".
    if (this.#items.size > MAX_RETRIEVABLE_ITEMS) {
      this.#items.delete(this.#items.keys().next().value!);
    }
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
}

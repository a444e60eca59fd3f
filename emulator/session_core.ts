/**
 * What every emulated session shares, whatever API it speaks (Realtime transcription/conversation
 * in `engine.ts`, Realtime Translation in `translation_engine.ts`): the attached connections and
 * the fan-out of server events to them, `error` events, timers that die with the session, the
 * session-duration limit (`session_expired` + close 1001) and ending.
 *
 * @module
 */
import type { RealtimeServerEvent, RealtimeTranslationServerEvent } from "../lib/openai_types.ts";
import { eventId } from "./ids.ts";
import * as ev from "./events.ts";
import type { Faults } from "./faults.ts";
import type { ModelOverrides } from "./model_overrides.ts";
import type { ResolvedOptions } from "./options.ts";
import type { SchemaContext } from "./session_schema.ts";
import type { TranscriptQueue } from "./transcripts.ts";

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

/** What a session needs from the emulator. */
export interface EngineHost {
  options: ResolvedOptions;
  transcripts: TranscriptQueue;
  faults: Faults;
  schema: SchemaContext;
  /** Per-model switches (logprobs omitted, options refused). */
  models: ModelOverrides;
}

/** Any server event before `event_id` is added, of either API. */
export type AnyServerEventBody = {
  type: RealtimeServerEvent["type"] | RealtimeTranslationServerEvent["type"];
};

/** Counters shown by `GET /_emulator/calls`. */
export interface SessionStats {
  /** Input audio received, ms. */
  audioMs: number;
  /** Committed turns (Realtime) or detected speech segments (Translation). */
  utterances: number;
  /** Finished transcripts (Realtime) or segments whose text was sent (Translation). */
  completed: number;
  /** Failed transcriptions. */
  failed: number;
}

/**
 * The shared part of a session. `E` is the event vocabulary of its API.
 *
 * @typeParam E The server event bodies this session emits.
 */
export abstract class SessionCore<E extends AnyServerEventBody> {
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
  /** The emulator's options, queues and faults. */
  protected readonly host: EngineHost;
  #timers = new Set<number>();

  /** Starts the session-duration timer. */
  constructor(host: EngineHost, id: string, queueKeys: string[]) {
    this.host = host;
    this.id = id;
    this.queueKeys = [...queueKeys, id];
    this.later(() => this.expire(), host.options.sessionMaxSeconds * 1000);
  }

  /** The session object carried by `session.created` / `session.updated`. */
  abstract get config(): object;

  /** Runs `fn` after `ms` unless the session has ended by then; returns the timer. */
  protected later(fn: () => void, ms: number): number {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.ended) fn();
    }, Math.max(0, ms));
    this.#timers.add(t);
    return t;
  }

  /** Cancels a timer made by {@linkcode later}. */
  protected cancel(timer: number): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  /** Runs `fn` after `ms` unless the session has ended by then. */
  schedule(fn: () => void, ms: number): void {
    this.later(fn, ms);
  }

  /** Attaches a connection; events emitted from now on reach it. */
  attach(sink: Sink, sendCreated: boolean): void {
    this.sinks.add(sink);
    if (sendCreated) this.sendTo(sink, this.createdEvent());
  }

  /** The `session.created` event for the current configuration. */
  createdEvent(): E {
    return { type: "session.created", session: this.config } as unknown as E;
  }

  /** Detaches a connection (the session keeps running). */
  detach(sink: Sink): void {
    this.sinks.delete(sink);
  }

  /** Sends one event to every attached connection. */
  emit(body: E): void {
    const event = { event_id: eventId(), ...body };
    for (const s of this.sinks) s.send(event);
  }

  /** Sends one event to a single connection. */
  sendTo(sink: Sink, body: E): void {
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
    }) as unknown as E;
    if (sink && !this.host.options.broadcastErrors) this.sendTo(sink, body);
    else this.emit(body);
  }

  /** Ends the session with `session_expired` + close 1001 on every connection. */
  expire(): void {
    if (this.ended) return;
    const minutes = this.host.options.sessionMaxSeconds / 60;
    const span = Number.isInteger(minutes)
      ? `${minutes} minutes`
      : `${this.host.options.sessionMaxSeconds} seconds`;
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

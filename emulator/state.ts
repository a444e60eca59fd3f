/**
 * The emulator's in-memory state: client secrets, calls (WebRTC, SIP, WebSocket
 * sessions), the transcript queue and fault switches; plus the WebSocket sink.
 *
 * @module
 */
import type { Session, Sink } from "./engine.ts";
import type { TranslationSession } from "./translation_engine.ts";
import type { TranslationRules, TranslationSessionObject } from "./translation_schema.ts";
import { Faults } from "./faults.ts";
import { ModelOverrides } from "./model_overrides.ts";
import type { ResolvedOptions } from "./options.ts";
import type { EffectiveSession, SchemaContext } from "./session_schema.ts";
import { TranscriptQueue } from "./transcripts.ts";
import type { Peer } from "./webrtc.ts";

/**
 * A client secret created by `POST /v1/realtime/client_secrets` (a Realtime session) or
 * `POST /v1/realtime/translations/client_secrets` (`session.type: "translation"`).
 */
export interface SecretRecord {
  value: string;
  /** Unix seconds. */
  expiresAt: number;
  session: EffectiveSession | TranslationSessionObject;
}

/** SIP details of a call. */
export interface SipInfo {
  from: string;
  to: string;
  wavPath?: string;
  webhookUrl: string;
  webhookDeliveries: {
    status: number | null;
    attempt: number;
    error?: string;
  }[];
  rejectStatus?: number;
  referTarget?: string;
}

/** One call (or WebSocket session) as listed by `GET /_emulator/calls`. */
export interface CallRecord {
  id: string;
  kind: "webrtc" | "sip" | "websocket";
  /** Which API: the Realtime API (`/v1/realtime…`) or the Translation API (`…/translations…`). */
  api: "realtime" | "translation";
  state: "ringing" | "active" | "ended";
  createdAt: number;
  endedReason: string | null;
  session: Session | TranslationSession | null;
  peer: Peer | null;
  sip: SipInfo | null;
  /** Cancels SIP playback and similar background work. */
  abort: AbortController;
  /** SIP: ends the call if it is still ringing after `sipRingTimeoutSeconds`. */
  ringTimer?: number;
}

/** One REST answer as listed by `GET /_emulator/requests` (the control API is not listed). */
export interface RequestRecord {
  method: string;
  /** The path without the query, e.g. `/v1/realtime/client_secrets`. */
  path: string;
  status: number;
  /** The answer's `x-request-id`. */
  requestId: string;
  /** Unix ms. */
  at: number;
}

/** How many REST answers `GET /_emulator/requests` keeps (oldest dropped first). */
export const KEEP_REQUESTS = 500;

/** Everything the handlers share. */
export class EmulatorState {
  readonly options: ResolvedOptions;
  readonly faults = new Faults();
  /** Per-model switches (logprobs omitted, options refused); `/_emulator/models`. */
  readonly models: ModelOverrides;
  readonly transcripts = new TranscriptQueue();
  readonly secrets = new Map<string, SecretRecord>();
  readonly calls = new Map<string, CallRecord>();
  /** The latest REST answers, oldest first (`GET /_emulator/requests`). */
  readonly requests: RequestRecord[] = [];
  readonly schema: SchemaContext;
  /** Open WebSockets, closed on reset/shutdown. */
  readonly sockets = new Set<WebSocket>();
  /** Background tasks (webhook deliveries, playback) awaited on close. */
  readonly tasks = new Set<Promise<unknown>>();
  /** Aborted by `close()`: cancels in-flight outgoing requests (webhooks). */
  readonly shutdown = new AbortController();
  /** Ids of ended calls, oldest first (bounded by `keepEndedCalls`). */
  #ended: string[] = [];

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.models = new ModelOverrides({
      omitLogprobs: options.omitLogprobsModels,
      refuse: options.refuseOptions,
    });
    this.schema = {
      defaultSilenceDurationMs: options.defaultSilenceDurationMs,
      defaultTranscriptionModel: options.defaultTranscriptionModel,
      overrides: this.models,
    };
  }

  /** Lists one REST answer (bounded by {@linkcode KEEP_REQUESTS}). */
  recordRequest(entry: RequestRecord): void {
    this.requests.push(entry);
    if (this.requests.length > KEEP_REQUESTS) {
      this.requests.splice(0, this.requests.length - KEEP_REQUESTS);
    }
  }

  /** Tracks a background promise until it settles. */
  track(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.tasks.delete(q));
    this.tasks.add(q);
  }

  /** Host object handed to sessions. */
  get host() {
    return {
      options: this.options,
      transcripts: this.transcripts,
      faults: this.faults,
      schema: this.schema,
      models: this.models,
    };
  }

  /** How translation sessions are validated (from the options). */
  get translationRules(): TranslationRules {
    return {
      languages: this.options.translationLanguages,
      defaultLanguage: this.options.translationDefaultLanguage,
      updatable: this.options.translationUpdatableFields,
    };
  }

  /** Ends a call: ends its session, closes its peer, stops playback. */
  async endCall(call: CallRecord, reason: string): Promise<void> {
    if (call.state === "ended") return;
    call.state = "ended";
    call.endedReason = reason;
    clearTimeout(call.ringTimer);
    call.abort.abort();
    this.#forgetOldEnded(call.id);
    if (reason === "reset") call.session?.end(reason, 1001, "emulator reset");
    else call.session?.end(reason);
    const peer = call.peer;
    call.peer = null;
    if (!peer) return;
    if (reason !== "expired") return await peer.close().catch(() => {});
    // Let the final `error` (session_expired) reach the browser before the peer
    // goes: Chromium was seen receiving it ~1.2 s after it was sent over werift's
    // SCTP (with a 100 ms grace it was lost). Tracked, and cut short by close().
    const closing = (async () => {
      await new Promise<void>((resolve) => {
        const signal = this.shutdown.signal;
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, FINAL_EVENT_GRACE_MS);
        signal.addEventListener("abort", done, { once: true });
      });
      await peer.close().catch(() => {});
    })();
    this.track(closing);
    await closing;
  }

  /** Keeps the ended-call listing bounded (long load runs). */
  #forgetOldEnded(id: string): void {
    this.#ended.push(id);
    while (this.#ended.length > Math.max(0, this.options.keepEndedCalls)) {
      const old = this.#ended.shift()!;
      if (this.calls.get(old)?.state === "ended") this.calls.delete(old);
    }
  }

  /** Ends every call and forgets all state except options. */
  async reset(): Promise<void> {
    await Promise.all(
      [...this.calls.values()].map((c) => this.endCall(c, "reset")),
    );
    for (const ws of this.sockets) {
      try {
        ws.close(1001, "emulator reset");
      } catch { /* already closed */ }
    }
    this.sockets.clear();
    this.calls.clear();
    this.#ended = [];
    this.secrets.clear();
    this.requests.length = 0;
    this.transcripts.clear();
    this.faults.clear();
    this.models.reset();
  }
}

/** How long an expired WebRTC call's peer stays up (silent) so the final `error` arrives. */
const FINAL_EVENT_GRACE_MS = 3000;

let sinkCounter = 0;

/** A {@linkcode Sink} over a server-side WebSocket. */
export class SocketSink implements Sink {
  readonly id: string;
  readonly kind: "sideband" | "websocket";
  readonly socket: WebSocket;

  constructor(socket: WebSocket, kind: "sideband" | "websocket") {
    this.id = `${kind}_${++sinkCounter}`;
    this.kind = kind;
    this.socket = socket;
  }

  send(event: Record<string, unknown>): void {
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(event));
    }
  }

  close(code: number, reason: string): void {
    try {
      if (this.socket.readyState <= WebSocket.OPEN) {
        this.socket.close(code, reason);
      }
    } catch { /* already closing */ }
  }
}

/** A {@linkcode Sink} over the WebRTC `oai-events` data channel; buffers until open. */
export class DataChannelSink implements Sink {
  readonly id = `datachannel_${++sinkCounter}`;
  readonly kind = "datachannel" as const;
  #peer: Peer | null = null;
  #open = false;
  #queue: string[] = [];

  /** Sets the peer once `answerOffer` returned. */
  setPeer(peer: Peer): void {
    this.#peer = peer;
    this.#flush();
  }

  /** Marks the channel open; sends `first` (e.g. `session.created`), then queued events. */
  opened(first?: Record<string, unknown>): void {
    if (first) this.#queue.unshift(JSON.stringify(first));
    this.#open = true;
    this.#flush();
  }

  #flush(): void {
    if (!this.#open || !this.#peer) return;
    for (const t of this.#queue.splice(0)) this.#peer.send(t);
  }

  send(event: Record<string, unknown>): void {
    const text = JSON.stringify(event);
    if (this.#open && this.#peer) {
      try {
        this.#peer.send(text);
      } catch { /* peer closing */ }
    } else this.#queue.push(text);
  }

  close(): void {
    this.#open = false;
  }
}

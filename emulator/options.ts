/**
 * Options of the Realtime emulator and their defaults. Every behaviour the protocol
 * reference marks as uncertain is a switch here (see docs/emulator.md).
 *
 * @module
 */

import { DEFAULT_OMIT_LOGPROBS_MODELS, type RefusalRules } from "./model_overrides.ts";

/** Options accepted by `startEmulator()`. All are optional. */
export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  hostname?: string;
  /** The accepted standard API key; default `sk-emulator-local`. */
  apiKey?: string;
  /** Maximum session duration in seconds (real API: 3600). */
  sessionMaxSeconds?: number;
  /** Delay after commit before the first transcription delta (real: ~1200 ms). */
  firstDeltaDelayMs?: number;
  /** Delay after commit before `…transcription.completed` (real: ~1400 ms). */
  completedDelayMs?: number;
  /** Delay between `session.update` and `session.updated` (real: ~260 ms). */
  sessionUpdatedDelayMs?: number;
  /**
   * Keep-alive of server WebSockets, seconds (real: a ping every ~20 s). A PING is
   * sent after this long without a frame from the client, and the socket is closed
   * (1001 "No response from ping frame.") if no PONG follows within the same time.
   * 0 disables pings. Implemented with Deno's `idleTimeout` (= 2 × this value).
   */
  pingIntervalSeconds?: number;
  /** Default `silence_duration_ms` of server VAD (live server: 200; docs: 500). */
  defaultSilenceDurationMs?: number;
  /**
   * Model filled in when `audio.input.transcription` is given without `model`
   * (unverified; default `whisper-1`). Without `transcription` (or with `null`) the
   * session has `transcription: null` and nothing is transcribed, as live.
   */
  defaultTranscriptionModel?: string;
  /**
   * What `input_audio_buffer.speech_stopped.audio_end_ms` reports: `"silence_end"` (default) =
   * where the silence that ended the turn was complete (speech end + `silence_duration_ms`), as
   * the `openai` SDK documents ("includes the `min_silence_duration_ms`"); `"speech_end"` = where
   * speech really ended (measured by the VAD, ±100 ms).
   */
  speechStoppedAudioEnd?: "speech_end" | "silence_end";
  /** Whether a `?call_id=` sideband receives `session.created` on attach (default false). */
  sidebandSessionCreated?: boolean;
  /**
   * Whether `gpt-live-transcribe` (which takes no turn detection) still reports
   * speech_started/stopped from the emulator's VAD, without committing: the client commits either
   * way. Default false, as reported live; unverified.
   */
  liveTranscribeSpeechEvents?: boolean;
  /**
   * Models that send no logprobs even when `include` asks (default whisper-1 and
   * gpt-4o-transcribe-diarize; logprobs on the current models are unverified). Changeable at run
   * time with `POST /_emulator/models`.
   */
  omitLogprobsModels?: string[];
  /**
   * Options a model refuses although the app's catalog says it takes them (model id or `*` →
   * options), answered with the live error shape; for testing the app's handling of an
   * unpredicted refusal. Changeable at run time with `POST /_emulator/models`.
   */
  refuseOptions?: RefusalRules;
  /**
   * Whether a `?call_id=` sideband's `session.update` is refused (an `error`, nothing changes).
   * Default false: every valid update applies. Which updates a transcription sideband may send
   * is unverified; the conformance suite probes it live.
   */
  sidebandRefusesUpdates?: boolean;
  /**
   * Transcription models a WebRTC call refuses (400 on `session.audio.input.transcription.model`).
   * Default none; whether gpt-transcribe works over WebRTC is unverified (one secondary source
   * says "WebSocket only").
   */
  webrtcRefusedModels?: string[];
  /** Whether an ephemeral key may open a sideband (default false: 404 as since 2026-09). */
  sidebandAcceptsEphemeral?: boolean;
  /** Send `error` events caused by a client event to every connection instead of the sender. */
  broadcastErrors?: boolean;
  /** Answer bad SDP with OpenAI's all-empty 400 envelope instead of a descriptive one. */
  emptyBadSdpError?: boolean;
  /** Add the undocumented `obfuscation` field to delta events (default true, as live). */
  deltaObfuscation?: boolean;
  /** Audio milliseconds per streamed word for streaming models while speech continues. */
  streamingWordIntervalMs?: number;
  /**
   * Request headers the CORS preflight of the REST endpoints allows (case-insensitive; a name
   * ending in `*` allows a prefix). Default {@linkcode DEFAULT_CORS_ALLOWED_HEADERS}; any other
   * requested header is left out of `Access-Control-Allow-Headers`, so the browser refuses the
   * request, as the live API does for `originator` and `version`.
   */
  corsAllowedHeaders?: string[];
  /** Extra ICE host addresses for the server peer (default `["127.0.0.1"]`). */
  iceAdditionalHostAddresses?: string[];
  /** Webhook retry delays in ms after a non-2xx or failed delivery. */
  webhookRetryDelaysMs?: number[];
  /** A SIP call nobody accepts, rejects or hangs up ends after this many seconds (default 60). */
  sipRingTimeoutSeconds?: number;
  /** How many ended calls `GET /_emulator/calls` keeps (oldest dropped first; default 100). */
  keepEndedCalls?: number;
  /**
   * Translation API: `"listed"` (default) rejects an `audio.output.language` missing from
   * `lib/translation_languages.ts` (`invalid_value`); `"any"` accepts every string.
   */
  translationLanguages?: "listed" | "any";
  /** Translation API: output language of a session that names none (unverified; default `en`). */
  translationDefaultLanguage?: string;
  /**
   * Translation API: what `session.update` may change. `"output_language"` (default, the protocol
   * reference's 2026-12 update): `audio.output.language` only; `"sdk"`: also
   * `audio.input.transcription` and `audio.input.noise_reduction`, as the `openai` package says.
   */
  translationUpdatableFields?: "output_language" | "sdk";
  /**
   * Translation API: `?model=` on `POST /v1/realtime/translations/calls`. `"reject"` (default, as
   * one public client reported): 400 `unknown_parameter`; `"accept"`: checked and ignored.
   */
  translationCallModelQuery?: "reject" | "accept";
  /**
   * Translation API: whether a translation call takes a sideband, and on which URL. `"refused"`
   * (default; no public source shows one): 404 `call_id_not_found` as for an unknown call;
   * `"realtime_url"`: `/v1/realtime?call_id=`; `"translations_url"`:
   * `/v1/realtime/translations?call_id=`; `"both"`.
   */
  translationSideband?: "refused" | "realtime_url" | "translations_url" | "both";
  /**
   * Translation API: whether `POST /v1/realtime/calls/{id}/hangup` (and
   * `/v1/realtime/translations/calls/{id}/hangup`) ends a translation call. Default false (no
   * source documents one): 404 `call_not_found`.
   */
  translationHangup?: boolean;
  /**
   * Translation API: how far translated output lags its source, in ms of input audio (default
   * 1000; the live lag is unknown). Text and speech of a segment start this much after its speech.
   */
  translationDelayMs?: number;
  /** Translation API: what translated "speech" sounds like: `"tone"` (default) or `"silence"`. */
  translationOutputAudio?: "tone" | "silence";
  /** Log requests to stderr. */
  verbose?: boolean;
}

/** Options with every default applied. */
export type ResolvedOptions = Required<EmulatorOptions>;

/**
 * What the live API's preflight allows: `Authorization` and `Content-Type` (protocol reference
 * §2.4), `X-OpenAI-Agents-SDK` (sent by `@openai/agents-realtime`'s browser SDP POST; the live
 * preflight passes it), and the headers the `openai` package sends from a browser
 * (`OpenAI-Organization`, `OpenAI-Project`, `X-Stainless-*`; inferred: the package supports
 * browsers). `originator` and `version` are refused live (openclaw/openclaw#76435).
 */
export const DEFAULT_CORS_ALLOWED_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "content-type",
  "x-openai-agents-sdk",
  "openai-organization",
  "openai-project",
  "x-stainless-*",
]);

/** The default standard API key accepted by the emulator. */
export const DEFAULT_API_KEY = "sk-emulator-local";

/** Applies the defaults to user options. */
export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  return {
    port: o.port ?? 0,
    hostname: o.hostname ?? "127.0.0.1",
    apiKey: o.apiKey ?? DEFAULT_API_KEY,
    sessionMaxSeconds: o.sessionMaxSeconds ?? 3600,
    firstDeltaDelayMs: o.firstDeltaDelayMs ?? 1200,
    completedDelayMs: o.completedDelayMs ?? 1400,
    sessionUpdatedDelayMs: o.sessionUpdatedDelayMs ?? 260,
    pingIntervalSeconds: o.pingIntervalSeconds ?? 20,
    defaultSilenceDurationMs: o.defaultSilenceDurationMs ?? 200,
    defaultTranscriptionModel: o.defaultTranscriptionModel ?? "whisper-1",
    speechStoppedAudioEnd: o.speechStoppedAudioEnd ?? "silence_end",
    sidebandSessionCreated: o.sidebandSessionCreated ?? false,
    liveTranscribeSpeechEvents: o.liveTranscribeSpeechEvents ?? false,
    omitLogprobsModels: o.omitLogprobsModels ?? [...DEFAULT_OMIT_LOGPROBS_MODELS],
    refuseOptions: o.refuseOptions ?? {},
    sidebandRefusesUpdates: o.sidebandRefusesUpdates ?? false,
    webrtcRefusedModels: o.webrtcRefusedModels ?? [],
    sidebandAcceptsEphemeral: o.sidebandAcceptsEphemeral ?? false,
    broadcastErrors: o.broadcastErrors ?? false,
    emptyBadSdpError: o.emptyBadSdpError ?? false,
    deltaObfuscation: o.deltaObfuscation ?? true,
    streamingWordIntervalMs: o.streamingWordIntervalMs ?? 350,
    corsAllowedHeaders: o.corsAllowedHeaders ?? [...DEFAULT_CORS_ALLOWED_HEADERS],
    iceAdditionalHostAddresses: o.iceAdditionalHostAddresses ?? ["127.0.0.1"],
    webhookRetryDelaysMs: o.webhookRetryDelaysMs ?? [1000, 5000, 30000],
    sipRingTimeoutSeconds: o.sipRingTimeoutSeconds ?? 60,
    keepEndedCalls: o.keepEndedCalls ?? 100,
    translationLanguages: o.translationLanguages ?? "listed",
    translationDefaultLanguage: o.translationDefaultLanguage ?? "en",
    translationUpdatableFields: o.translationUpdatableFields ?? "output_language",
    translationCallModelQuery: o.translationCallModelQuery ?? "reject",
    translationSideband: o.translationSideband ?? "refused",
    translationHangup: o.translationHangup ?? false,
    translationDelayMs: o.translationDelayMs ?? 1000,
    translationOutputAudio: o.translationOutputAudio ?? "tone",
    verbose: o.verbose ?? false,
  };
}

/**
 * The catalog of transcription models the app offers, with the options each one accepts: the one
 * definition of OpenAI's per-model rules. `GET /api/models` serves it, `lib/session_config.ts`
 * rejects option combinations a model does not support with it, and the emulator
 * (`emulator/session_schema.ts`) enforces the same rules (the emulator imports this module; this
 * module never imports the emulator).
 *
 * Sources, newest first (the protocol reference is `../shared/realtime-protocol.md`):
 * - [2026-12] the reference's "Update, 2026-12", from OpenAI's realtime-vad and
 *   realtime-transcription guides and the model pages: turn detection per model, prices.
 * - [SDK] the `openai` package's `AudioTranscription` doc comments (`delay`, `keywords`,
 *   `languages`, `prompt`) and its model enum with the deprecation dates.
 * - [5.3] the reference's §5.3 table (logprobs, whisper-1's single delta, streaming models).
 * docs/emulator.md ("Model rules") has the same rules as a table.
 *
 * @module
 */
import type { AudioTranscription } from "npm:openai@7.57.0/resources/realtime/realtime";

/** A transcription model id known to the `openai` package. */
export type TranscriptionModelId = NonNullable<AudioTranscription["model"]>;

/** Lifecycle of a model at OpenAI. */
export type ModelStatus = "current" | "deprecated";

/** The kinds of server-side turn detection (`audio.input.turn_detection.type`). */
export type TurnDetectionType = "server_vad" | "semantic_vad";

const BOTH_VAD_KINDS: readonly TurnDetectionType[] = Object.freeze(["server_vad", "semantic_vad"]);

/** One model and what it supports. */
export interface ModelInfo {
  /** The value of `audio.input.transcription.model`. */
  id: TranscriptionModelId;
  /** Short human label for the page's model picker. */
  label: string;
  status: ModelStatus;
  /** ISO date OpenAI turns the model off, or null. */
  shutdownDate: string | null;
  /** US dollars per minute of input audio, or null where the protocol reference lists no price. */
  pricePerMinuteUsd: number | null;
  /**
   * What the Realtime API fills in for `audio.input.turn_detection` when a transcription session
   * omits it: `server_vad` for models that support VAD, null (none: the client commits turns) for
   * the others [2026-12].
   */
  defaultTurnDetection: "server_vad" | null;
  /** Options the model accepts. */
  supports: {
    /** `transcription.prompt` (free text; a keyword list for whisper-1). */
    prompt: boolean;
    /** `transcription.keywords[]`. */
    keywords: boolean;
    /** `transcription.languages[]` (possible languages). */
    languages: boolean;
    /** `transcription.delay` (latency/accuracy trade-off). */
    delay: boolean;
    /** `include: ["item.input_audio_transcription.logprobs"]` (confidence). */
    logprobs: boolean;
    /**
     * Server VAD / semantic VAD in a transcription session; when false `turn_detection` must be
     * omitted or null, and any VAD is refused with {@linkcode TURN_DETECTION_UNSUPPORTED}.
     */
    turnDetection: boolean;
    /** The VAD kinds the model accepts (empty when `turnDetection` is false: the page commits). */
    turnDetectionTypes: readonly TurnDetectionType[];
    /** `noise_reduction.strength` (0–1; OpenAI's default is 1 when noise reduction is on). */
    noiseReductionStrength: boolean;
  };
  /** Deltas arrive while the speaker is still talking (not only after the turn is committed). */
  streamsWhileSpeaking: boolean;
}

/** OpenAI's announced shutdown date of the deprecated transcription models [SDK]. */
export const DEPRECATED_SHUTDOWN_DATE = "2027-02-26";

/**
 * OpenAI's refusal of turn detection for a model without it: a 400 (REST) or an `error` event
 * (`session.update`). The message is the live text reported for both models [2026-12]; `code` and
 * `param` are those of a live client_secrets 400 quoted in public client code (2026), where the
 * param is the dotted path (`session.audio.input.turn_detection` over REST).
 */
export const TURN_DETECTION_UNSUPPORTED = Object.freeze({
  type: "invalid_request_error",
  code: "invalid_value",
  message: "Turn detection is not supported for this transcription model.",
  /** The param without its prefix (`session.` over REST and in `session.update`). */
  param: "audio.input.turn_detection",
});

type SupportFlags = Omit<ModelInfo["supports"], "turnDetectionTypes">;

interface ModelSpec {
  id: TranscriptionModelId;
  label: string;
  status: ModelStatus;
  pricePerMinuteUsd: number | null;
  supports: SupportFlags;
  streamsWhileSpeaking: boolean;
}

function model(spec: ModelSpec): ModelInfo {
  const vad = spec.supports.turnDetection;
  return {
    id: spec.id,
    label: spec.label,
    status: spec.status,
    shutdownDate: spec.status === "deprecated" ? DEPRECATED_SHUTDOWN_DATE : null,
    pricePerMinuteUsd: spec.pricePerMinuteUsd,
    defaultTurnDetection: vad ? "server_vad" : null,
    supports: {
      ...spec.supports,
      turnDetectionTypes: vad ? BOTH_VAD_KINDS : Object.freeze([]),
    },
    streamsWhileSpeaking: spec.streamsWhileSpeaking,
  };
}

/** What the 2026-07 models (`gpt-transcribe`, `gpt-live-transcribe`) accept [SDK]. */
const TRANSCRIBE_2026: SupportFlags = {
  prompt: true,
  // keywords[] and languages[]: "Supported by gpt-transcribe and gpt-live-transcribe" [SDK].
  keywords: true,
  languages: true,
  // delay: "Only supported with gpt-realtime-whisper" [SDK].
  delay: false,
  // Unverified on the current models [2026-12]; the page copes when `completed` has none.
  logprobs: true,
  turnDetection: true,
  noiseReductionStrength: true,
};

/** The deprecated models: prompt, VAD, logprobs; no keywords, languages or delay [SDK, 5.3]. */
function deprecated(
  id: TranscriptionModelId,
  label: string,
  supports: Partial<SupportFlags>,
): ModelInfo {
  return model({
    id,
    label,
    status: "deprecated",
    // The 2026-12 price list names only the current models.
    pricePerMinuteUsd: null,
    supports: {
      prompt: true,
      keywords: false,
      languages: false,
      delay: false,
      logprobs: true,
      // "Models that support VAD default to server_vad" [2026-12].
      turnDetection: true,
      noiseReductionStrength: true,
      ...supports,
    },
    streamsWhileSpeaking: false,
  });
}

/** Every transcription model, current ones first. */
export const MODELS: readonly ModelInfo[] = Object.freeze([
  model({
    id: "gpt-transcribe",
    label: "GPT Transcribe",
    status: "current",
    // $0.0045 per minute [2026-12].
    pricePerMinuteUsd: 0.0045,
    // Accepts VAD and defaults to server_vad [2026-12].
    supports: TRANSCRIBE_2026,
    streamsWhileSpeaking: false,
  }),
  model({
    id: "gpt-live-transcribe",
    label: "GPT Live Transcribe (streams while you speak)",
    status: "current",
    // $0.017 per minute [2026-12].
    pricePerMinuteUsd: 0.017,
    // "require turn detection to be omitted or set to null": the client commits each turn, and
    // there are no speech_started/stopped events [2026-12].
    supports: { ...TRANSCRIBE_2026, turnDetection: false },
    // Streams deltas while the person speaks [2026-12; 5.3].
    streamsWhileSpeaking: true,
  }),
  model({
    id: "gpt-realtime-whisper",
    label: "GPT Realtime Whisper (page commits turns)",
    status: "current",
    // $0.017 per minute [2026-12].
    pricePerMinuteUsd: 0.017,
    supports: {
      // "Prompt is not supported with gpt-realtime-whisper" [SDK].
      prompt: false,
      keywords: false,
      languages: false,
      delay: true,
      // "?" in the reference (5.3): not offered.
      logprobs: false,
      // Turn detection omitted or null [2026-12; SDK].
      turnDetection: false,
      noiseReductionStrength: true,
    },
    streamsWhileSpeaking: true,
  }),
  deprecated("gpt-4o-transcribe", "GPT-4o Transcribe", {}),
  deprecated("gpt-4o-mini-transcribe", "GPT-4o mini Transcribe", {}),
  deprecated(
    "gpt-4o-mini-transcribe-2025-12-15",
    "GPT-4o mini Transcribe (2025-12-15)",
    {},
  ),
  // The prompt is for gpt-4o-transcribe models "excluding gpt-4o-transcribe-diarize" [SDK]; no
  // logprobs as in the audio API [5.3].
  deprecated("gpt-4o-transcribe-diarize", "GPT-4o Transcribe Diarize", {
    prompt: false,
    logprobs: false,
  }),
  // One delta per turn and no logprobs [5.3].
  deprecated("whisper-1", "Whisper", { logprobs: false }),
]);

/** Finds a model by id; undefined when the catalog does not know it. */
export function findModel(id: string): ModelInfo | undefined {
  return MODELS.find((m) => m.id === id);
}

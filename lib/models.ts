/**
 * The catalog of transcription models the app offers, with the options each one accepts. It
 * follows the `openai` npm package 7.57.0 (`AudioTranscription` in `resources/realtime/realtime`)
 * and the protocol reference's 2026-11 update. `GET /api/models` serves it; `lib/session_config.ts`
 * uses it to reject option combinations a model does not support.
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
    /** Server VAD / semantic VAD; when false `turn_detection` must be null. */
    turnDetection: boolean;
    /** The VAD kinds the model accepts (empty when `turnDetection` is false: the page commits). */
    turnDetectionTypes: readonly TurnDetectionType[];
    /** `noise_reduction.strength` (0–1; OpenAI's default is 1 when noise reduction is on). */
    noiseReductionStrength: boolean;
  };
  /** Deltas arrive while the speaker is still talking (not only after the turn is committed). */
  streamsWhileSpeaking: boolean;
}

/** OpenAI's announced shutdown date of the deprecated transcription models. */
export const DEPRECATED_SHUTDOWN_DATE = "2027-02-26";

type SupportFlags = Omit<ModelInfo["supports"], "turnDetectionTypes">;

function model(
  id: TranscriptionModelId,
  label: string,
  status: ModelStatus,
  supports: SupportFlags,
  streamsWhileSpeaking: boolean,
): ModelInfo {
  return {
    id,
    label,
    status,
    shutdownDate: status === "deprecated" ? DEPRECATED_SHUTDOWN_DATE : null,
    supports: {
      ...supports,
      turnDetectionTypes: supports.turnDetection ? BOTH_VAD_KINDS : Object.freeze([]),
    },
    streamsWhileSpeaking,
  };
}

/** What the 2026-07 models (`gpt-transcribe`, `gpt-live-transcribe`) accept. */
const TRANSCRIBE_2026: SupportFlags = {
  prompt: true,
  keywords: true,
  languages: true,
  delay: false,
  logprobs: true,
  turnDetection: true,
  noiseReductionStrength: true,
};

function deprecated(
  id: TranscriptionModelId,
  label: string,
  supports: Partial<SupportFlags>,
): ModelInfo {
  return model(id, label, "deprecated", {
    prompt: true,
    keywords: false,
    languages: false,
    delay: false,
    logprobs: true,
    turnDetection: true,
    noiseReductionStrength: true,
    ...supports,
  }, false);
}

/** Every transcription model, current ones first. */
export const MODELS: readonly ModelInfo[] = Object.freeze([
  model("gpt-transcribe", "GPT Transcribe", "current", TRANSCRIBE_2026, false),
  model(
    "gpt-live-transcribe",
    "GPT Live Transcribe (streams while you speak)",
    "current",
    TRANSCRIBE_2026,
    true,
  ),
  model("gpt-realtime-whisper", "GPT Realtime Whisper (page commits turns)", "current", {
    prompt: false,
    keywords: false,
    languages: false,
    delay: true,
    logprobs: false,
    turnDetection: false,
    noiseReductionStrength: true,
  }, true),
  deprecated("gpt-4o-transcribe", "GPT-4o Transcribe", {}),
  deprecated("gpt-4o-mini-transcribe", "GPT-4o mini Transcribe", {}),
  deprecated(
    "gpt-4o-mini-transcribe-2025-12-15",
    "GPT-4o mini Transcribe (2025-12-15)",
    {},
  ),
  deprecated("gpt-4o-transcribe-diarize", "GPT-4o Transcribe Diarize", {
    prompt: false,
    logprobs: false,
  }),
  deprecated("whisper-1", "Whisper", { logprobs: false }),
]);

/** Finds a model by id; undefined when the catalog does not know it. */
export function findModel(id: string): ModelInfo | undefined {
  return MODELS.find((m) => m.id === id);
}

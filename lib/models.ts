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
  };
  /** Deltas arrive while the speaker is still talking (not only after the turn is committed). */
  streamsWhileSpeaking: boolean;
}

/** OpenAI's announced shutdown date of the deprecated transcription models. */
export const DEPRECATED_SHUTDOWN_DATE = "2027-02-26";

function deprecated(
  id: TranscriptionModelId,
  label: string,
  supports: Partial<ModelInfo["supports"]>,
): ModelInfo {
  return {
    id,
    label,
    status: "deprecated",
    shutdownDate: DEPRECATED_SHUTDOWN_DATE,
    supports: {
      prompt: true,
      keywords: false,
      languages: false,
      delay: false,
      logprobs: true,
      turnDetection: true,
      ...supports,
    },
    streamsWhileSpeaking: false,
  };
}

/** Every transcription model, current ones first. */
export const MODELS: readonly ModelInfo[] = Object.freeze([
  {
    id: "gpt-transcribe",
    label: "GPT Transcribe",
    status: "current",
    shutdownDate: null,
    supports: {
      prompt: true,
      keywords: true,
      languages: true,
      delay: false,
      logprobs: true,
      turnDetection: true,
    },
    streamsWhileSpeaking: false,
  },
  {
    id: "gpt-live-transcribe",
    label: "GPT Live Transcribe (streams while you speak)",
    status: "current",
    shutdownDate: null,
    supports: {
      prompt: true,
      keywords: true,
      languages: true,
      delay: false,
      logprobs: true,
      turnDetection: true,
    },
    streamsWhileSpeaking: true,
  },
  {
    id: "gpt-realtime-whisper",
    label: "GPT Realtime Whisper (page commits turns)",
    status: "current",
    shutdownDate: null,
    supports: {
      prompt: false,
      keywords: false,
      languages: false,
      delay: true,
      logprobs: false,
      turnDetection: false,
    },
    streamsWhileSpeaking: true,
  },
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

/**
 * Model lists from openai@7.57.0 and per-model behaviour of the engine. The per-model option
 * rules (turn detection, prompt, keywords, languages, delay) come from the app's catalog,
 * `lib/models.ts`, so the emulator and the app share one definition.
 *
 * @module
 */
import { MODELS } from "../lib/models.ts";
import type { RealtimeSessionCreateResponse } from "npm:openai@7.57.0/resources/realtime/client-secrets";
import type { AudioTranscription } from "npm:openai@7.57.0/resources/realtime/realtime";

/** Transcription models accepted by `audio.input.transcription.model` (openai@7.57.0). */
export const TRANSCRIPTION_MODELS = [
  "whisper-1",
  "gpt-transcribe",
  "gpt-live-transcribe",
  "gpt-4o-mini-transcribe",
  "gpt-4o-mini-transcribe-2025-12-15",
  "gpt-4o-transcribe",
  "gpt-4o-transcribe-diarize",
  "gpt-realtime-whisper",
] as const satisfies readonly NonNullable<AudioTranscription["model"]>[];

/** Realtime (speech-to-speech) models accepted as `session.model` (openai@7.57.0). */
export const REALTIME_MODELS = [
  "gpt-realtime",
  "gpt-realtime-1.5",
  "gpt-realtime-2",
  "gpt-realtime-2.1",
  "gpt-realtime-2.1-mini",
  "gpt-realtime-2025-08-28",
  "gpt-4o-realtime-preview",
  "gpt-4o-realtime-preview-2024-10-01",
  "gpt-4o-realtime-preview-2024-12-17",
  "gpt-4o-realtime-preview-2025-06-03",
  "gpt-4o-mini-realtime-preview",
  "gpt-4o-mini-realtime-preview-2024-12-17",
  "gpt-realtime-mini",
  "gpt-realtime-mini-2025-10-06",
  "gpt-realtime-mini-2025-12-15",
  "gpt-audio-1.5",
  "gpt-audio-mini",
  "gpt-audio-mini-2025-10-06",
  "gpt-audio-mini-2025-12-15",
] as const satisfies readonly NonNullable<
  RealtimeSessionCreateResponse["model"]
>[];

/** Models that stream deltas while the user is still speaking (from the catalog). */
export const STREAMING_MODELS: readonly string[] = MODELS.filter((m) => m.streamsWhileSpeaking)
  .map((m) => m.id);

/**
 * Models that never return logprobs even when `include` asks (whisper-1 per the
 * Realtime docs; diarize as in the audio API — unverified over Realtime).
 */
export const NO_LOGPROBS_MODELS: readonly string[] = [
  "whisper-1",
  "gpt-4o-transcribe-diarize",
];

/** The include value that asks for logprobs. */
export const LOGPROBS_INCLUDE = "item.input_audio_transcription.logprobs";

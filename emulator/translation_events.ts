/**
 * Typed builders for the Realtime Translation server events, checked against the `openai` package's
 * types (a renamed field fails `deno check`). `event_id` is added when an event is sent.
 *
 * @module
 */
import type { RT } from "../lib/openai_types.ts";
import type { Body } from "./events.ts";
import type { TranslationSessionObject } from "./translation_schema.ts";

/** A translation server event before `event_id` is added. */
export type TranslationEventBody = { type: RT.RealtimeTranslationServerEvent["type"] };

/** Sample rate of translated speech (`session.output_audio.delta`). */
export const OUTPUT_AUDIO_RATE = 24000;

/** `session.created` / `session.updated`. */
export function translationSessionEvent(
  type: "session.created" | "session.updated",
  session: TranslationSessionObject,
):
  | Body<RT.RealtimeTranslationSessionCreatedEvent>
  | Body<RT.RealtimeTranslationSessionUpdatedEvent> {
  return { type, session };
}

/** `session.output_transcript.delta` (translated text). */
export function outputTranscriptDelta(
  delta: string,
  elapsedMs: number,
): Body<RT.RealtimeTranslationOutputTranscriptDeltaEvent> {
  return { type: "session.output_transcript.delta", delta, elapsed_ms: elapsedMs };
}

/** `session.input_transcript.delta` (source-language text). */
export function inputTranscriptDelta(
  delta: string,
  elapsedMs: number,
): Body<RT.RealtimeTranslationInputTranscriptDeltaEvent> {
  return { type: "session.input_transcript.delta", delta, elapsed_ms: elapsedMs };
}

/** `session.output_audio.delta`: base64 PCM16, 24 kHz mono. */
export function outputAudioDelta(
  pcm: Int16Array,
  elapsedMs: number,
): Body<RT.RealtimeTranslationOutputAudioDeltaEvent> {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return {
    type: "session.output_audio.delta",
    delta: bytes.toBase64(),
    elapsed_ms: elapsedMs,
    format: "pcm16",
    sample_rate: OUTPUT_AUDIO_RATE,
    channels: 1,
  };
}

/** `session.closed`. */
export function sessionClosed(): Body<RT.RealtimeTranslationSessionClosedEvent> {
  return { type: "session.closed" };
}

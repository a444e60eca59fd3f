/**
 * Typed builders for the server events the engine emits. Each is checked against
 * the `openai` package's types (lib/openai_types.ts), so a renamed or retyped field fails `deno check`.
 * `event_id` is added when an event is sent.
 *
 * @module
 */
import type { RT } from "../lib/openai_types.ts";

/** An event without its `event_id`. */
export type Body<T> = Omit<T, "event_id">;

/** `session.created` / `session.updated`. */
export function sessionEvent(
  type: "session.created" | "session.updated",
  session: RT.SessionCreatedEvent["session"],
): Body<RT.SessionCreatedEvent> | Body<RT.SessionUpdatedEvent> {
  return { type, session };
}

/** `input_audio_buffer.speech_started`. */
export function speechStarted(
  itemId: string,
  audioStartMs: number,
): Body<RT.InputAudioBufferSpeechStartedEvent> {
  return {
    type: "input_audio_buffer.speech_started",
    audio_start_ms: Math.round(audioStartMs),
    item_id: itemId,
  };
}

/** `input_audio_buffer.speech_stopped`. */
export function speechStopped(
  itemId: string,
  audioEndMs: number,
): Body<RT.InputAudioBufferSpeechStoppedEvent> {
  return {
    type: "input_audio_buffer.speech_stopped",
    audio_end_ms: Math.round(audioEndMs),
    item_id: itemId,
  };
}

/** `input_audio_buffer.committed`. */
export function committed(
  itemId: string,
  previous: string | null,
): Body<RT.InputAudioBufferCommittedEvent> {
  return {
    type: "input_audio_buffer.committed",
    item_id: itemId,
    previous_item_id: previous,
  };
}

/** `input_audio_buffer.cleared`. */
export function cleared(): Body<RT.InputAudioBufferClearedEvent> {
  return { type: "input_audio_buffer.cleared" };
}

/** The user audio item of a committed turn (transcript still null). */
export function audioItem(
  itemId: string,
): RT.RealtimeConversationItemUserMessage {
  return {
    id: itemId,
    type: "message",
    status: "completed",
    role: "user",
    content: [{ type: "input_audio", transcript: null as unknown as string }],
  };
}

/** `conversation.item.retrieved`: the server's representation of a committed audio item. */
export function itemRetrieved(
  itemId: string,
  transcript: string | null,
): Body<RT.RealtimeServerEvent.ConversationItemRetrieved> {
  const item = audioItem(itemId);
  item.object = "realtime.item";
  item.content = [{ type: "input_audio", transcript: transcript as string }];
  return { type: "conversation.item.retrieved", item };
}

/** `conversation.item.added` / `conversation.item.done` for an audio item. */
export function itemEvent(
  type: "conversation.item.added" | "conversation.item.done",
  itemId: string,
  previous: string | null,
): Body<RT.ConversationItemAdded> | Body<RT.ConversationItemDone> {
  return { type, previous_item_id: previous, item: audioItem(itemId) };
}

/** `conversation.item.input_audio_transcription.delta`. */
export function delta(
  itemId: string,
  text: string,
  logprobs?: RT.LogProbProperties[],
): Body<RT.ConversationItemInputAudioTranscriptionDeltaEvent> {
  const ev: Body<RT.ConversationItemInputAudioTranscriptionDeltaEvent> = {
    type: "conversation.item.input_audio_transcription.delta",
    item_id: itemId,
    content_index: 0,
    delta: text,
  };
  if (logprobs) ev.logprobs = logprobs;
  return ev;
}

/** `conversation.item.input_audio_transcription.completed`. */
export function completed(
  itemId: string,
  transcript: string,
  usage: RT.ConversationItemInputAudioTranscriptionCompletedEvent["usage"],
  extra: Pick<
    RT.ConversationItemInputAudioTranscriptionCompletedEvent,
    "logprobs" | "languages"
  > = {},
): Body<RT.ConversationItemInputAudioTranscriptionCompletedEvent> {
  return {
    type: "conversation.item.input_audio_transcription.completed",
    item_id: itemId,
    content_index: 0,
    transcript,
    usage,
    ...extra,
  };
}

/** `conversation.item.input_audio_transcription.failed`. */
export function failed(
  itemId: string,
): Body<RT.ConversationItemInputAudioTranscriptionFailedEvent> {
  return {
    type: "conversation.item.input_audio_transcription.failed",
    item_id: itemId,
    content_index: 0,
    // The live API sends `code: null, param: null`; the SDK types them as optional strings.
    error: {
      type: "server_error",
      code: null as unknown as string,
      message: `Input transcription failed for item '${itemId}'.`,
      param: null as unknown as string,
    },
  };
}

/** `error`. */
export function error(err: RT.RealtimeError): Body<RT.RealtimeErrorEvent> {
  return { type: "error", error: err };
}

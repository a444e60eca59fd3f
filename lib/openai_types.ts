/**
 * The `openai` package's Realtime types, re-exported from one module so the pinned version is
 * written once (types only: `import type`, nothing loads at run time, so the deployed val does not
 * ship the package). Deployed code, the emulator and tests import the types from here.
 *
 * @module
 */
export type * as RT from "npm:openai@7.59.0/resources/realtime/realtime";
export type {
  AudioTranscription,
  ConversationItemInputAudioTranscriptionCompletedEvent,
  LogProbProperties,
  RealtimeClientEvent,
  RealtimeServerEvent,
  RealtimeTranscriptionSessionCreateRequest,
  RealtimeTranslationClientEvent,
  RealtimeTranslationClientSecretCreateResponse,
  RealtimeTranslationServerEvent,
  RealtimeTranslationSession,
  SessionCreatedEvent,
} from "npm:openai@7.59.0/resources/realtime/realtime";
export type {
  ClientSecretCreateResponse,
  RealtimeSessionCreateResponse,
  RealtimeTranscriptionSessionCreateResponse,
} from "npm:openai@7.59.0/resources/realtime/client-secrets";
export type { CallAcceptParams } from "npm:openai@7.59.0/resources/realtime/calls";

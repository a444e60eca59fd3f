/**
 * Client events of a translation session (WebSocket, WebRTC data channel, sideband):
 * `session.update`, `session.input_audio_buffer.append` and `session.close`, the only three the
 * `openai` package's `RealtimeTranslationClientEvent` has.
 *
 * @module
 */
import type { RealtimeTranslationClientEvent } from "../lib/openai_types.ts";
import { ApiError } from "./errors.ts";
import { appendedAudio, checkUpdateEnvelope, readClientEvent } from "./client_events.ts";
import type { Sink } from "./session_core.ts";
import type { TranslationSession } from "./translation_engine.ts";
import { type TranslationRules, updateTranslationSession } from "./translation_schema.ts";

/** Client event types a translation session accepts. */
export const TRANSLATION_CLIENT_EVENT_TYPES = [
  "session.update",
  "session.input_audio_buffer.append",
  "session.close",
] as const satisfies readonly RealtimeTranslationClientEvent["type"][];

/** Context for handling one translation client event. */
export interface TranslationEventContext {
  session: TranslationSession;
  from: Sink;
  rules: TranslationRules;
  /** Delay before `session.updated`. */
  updatedDelayMs: number;
  /** Refuse `session.update` from a sideband (option `sidebandRefusesUpdates`). */
  sidebandRefusesUpdates?: boolean;
  /** Called after `session.close` was handled (`session.closed` is sent). */
  onClosed: () => void;
}

/** Handles one text frame from a client of a translation session. */
export function handleTranslationClientText(text: string, ctx: TranslationEventContext): void {
  const { session, from } = ctx;
  if (session.closing) return;
  const parsed = readClientEvent(text, session, from, TRANSLATION_CLIENT_EVENT_TYPES);
  if (!parsed) return;
  const { event, clientEventId, type } = parsed;
  switch (type) {
    case "session.update":
      return update(event, clientEventId, ctx);
    case "session.input_audio_buffer.append": {
      const pcm = appendedAudio(event, clientEventId, session, from);
      if (pcm) session.pushAudio(pcm);
      return;
    }
    case "session.close":
      session.close();
      return ctx.onClosed();
  }
}

function update(
  event: Record<string, unknown>,
  clientEventId: string | null,
  ctx: TranslationEventContext,
): void {
  const { session, from } = ctx;
  try {
    checkUpdateEnvelope(event, { from, sidebandRefusesUpdates: ctx.sidebandRefusesUpdates });
    session.setConfig(updateTranslationSession(event.session, session.config, ctx.rules));
    const snapshot = session.config;
    const send = () => session.emitUpdated(snapshot);
    if (ctx.updatedDelayMs > 0) session.schedule(send, ctx.updatedDelayMs);
    else send();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    session.error(from, e.code, e.message, e.param, clientEventId, e.type);
  }
}

/**
 * Starting a WebRTC translation call: the same peer as a transcription call (Opus decode into the
 * session's VAD, the `oai-events` channel), plus an audio track back to the browser carrying the
 * translated "speech" (tone or silence, see `translation_engine.ts`).
 *
 * @module
 */
import { connectPeer, newCallRecord } from "./calls.ts";
import * as ids from "./ids.ts";
import { DataChannelSink, type EmulatorState } from "./state.ts";
import { handleTranslationClientText } from "./translation_client_events.ts";
import { TranslationSession } from "./translation_engine.ts";
import type { TranslationSessionObject } from "./translation_schema.ts";
import { endAfterClosed } from "./translation_sideband.ts";

/** Answers an offer with a translation call; returns the call id and answer SDP, or an error. */
export function startTranslationCall(
  state: EmulatorState,
  offerSdp: string,
  config: TranslationSessionObject,
): Promise<{ callId: string; answerSdp: string } | { error: string }> {
  const call = newCallRecord("webrtc");
  call.api = "translation";
  const session = new TranslationSession(
    state.host,
    config,
    ids.sessionId(),
    [call.id],
    (pcm) => call.peer?.writeAudio(pcm),
  );
  const dc = new DataChannelSink();
  return connectPeer(state, call, offerSdp, {
    session,
    dc,
    onMessage: (text) =>
      handleTranslationClientText(text, {
        session,
        from: dc,
        rules: state.translationRules,
        updatedDelayMs: state.options.sessionUpdatedDelayMs,
        onClosed: () => endAfterClosed(state, call),
      }),
    sendAudio: true,
  });
}

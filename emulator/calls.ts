/**
 * Starting a WebRTC call: answers the offer with the media layer's peer, creates the
 * session, wires peer audio into the engine and the `oai-events` data channel into
 * client-event handling.
 *
 * @module
 */
import { Session, type SessionObject } from "./engine.ts";
import { sessionEvent } from "./events.ts";
import { handleClientText } from "./client_events.ts";
import * as ids from "./ids.ts";
import type { EffectiveSession } from "./session_schema.ts";
import { type CallRecord, DataChannelSink, type EmulatorState } from "./state.ts";
import type { Peer } from "./webrtc.ts";

/** Creates a call record (not yet registered). */
export function newCallRecord(
  kind: CallRecord["kind"],
  id = ids.callId(),
): CallRecord {
  return {
    id,
    kind,
    state: "active",
    createdAt: Math.floor(Date.now() / 1000),
    endedReason: null,
    session: null,
    peer: null,
    sip: null,
    abort: new AbortController(),
  };
}

/** Answers an offer and starts the call; returns the call id and answer SDP, or an error message. */
export async function startWebRtcCall(
  state: EmulatorState,
  offerSdp: string,
  config: EffectiveSession,
): Promise<{ callId: string; answerSdp: string } | { error: string }> {
  const call = newCallRecord("webrtc");
  const session = new Session(state.host, config, ids.sessionId(), [call.id]);
  call.session = session;
  const dc = new DataChannelSink();
  session.attach(dc, false);
  session.onEnd = (reason) => void state.endCall(call, reason);
  let peer: Peer;
  try {
    // Loaded lazily so WebSocket-only users never load werift/opusscript.
    const { answerOffer } = await import("./webrtc.ts");
    peer = await answerOffer(offerSdp, {
      onAudio: (pcm) => session.pushAudio(pcm),
      onMessage: (text) =>
        handleClientText(text, {
          session,
          from: dc,
          schema: state.schema,
          webrtc: true,
          updatedDelayMs: state.options.sessionUpdatedDelayMs,
          onClose: () => void state.endCall(call, "session.close"),
        }),
      onOpen: () => {
        dc.opened({
          event_id: ids.eventId(),
          ...sessionEvent("session.created", session.config as SessionObject),
        });
      },
      onClose: (reason) => void state.endCall(call, `peer closed: ${reason}`),
    }, {
      iceAdditionalHostAddresses: state.options.iceAdditionalHostAddresses,
    });
  } catch (e) {
    session.end("invalid offer");
    return {
      error: `Invalid SDP offer: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  call.peer = peer;
  dc.setPeer(peer);
  state.calls.set(call.id, call);
  return { callId: call.id, answerSdp: peer.answerSdp };
}

/**
 * Starting a WebRTC call: answers the offer with the media layer's peer, creates the
 * session, wires peer audio into the engine and the `oai-events` data channel into
 * client-event handling. {@linkcode connectPeer} is shared with translation calls.
 *
 * @module
 */
import { Session } from "./engine.ts";
import { handleClientText } from "./client_events.ts";
import * as ids from "./ids.ts";
import type { EffectiveSession } from "./session_schema.ts";
import { type CallRecord, DataChannelSink, type EmulatorState } from "./state.ts";
import type { TranslationSession } from "./translation_engine.ts";
import type { Peer } from "./webrtc.ts";

/** Creates a call record (not yet registered). */
export function newCallRecord(
  kind: CallRecord["kind"],
  id = ids.callId(),
): CallRecord {
  return {
    id,
    kind,
    api: "realtime",
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
export function startWebRtcCall(
  state: EmulatorState,
  offerSdp: string,
  config: EffectiveSession,
): Promise<{ callId: string; answerSdp: string } | { error: string }> {
  const call = newCallRecord("webrtc");
  const session = new Session(state.host, config, ids.sessionId(), [call.id]);
  const dc = new DataChannelSink();
  return connectPeer(state, call, offerSdp, {
    session,
    dc,
    onMessage: (text) =>
      handleClientText(text, {
        session,
        from: dc,
        schema: state.schema,
        webrtc: true,
        updatedDelayMs: state.options.sessionUpdatedDelayMs,
        onClose: () => void state.endCall(call, "session.close"),
      }),
    sendAudio: false,
  });
}

/** What {@linkcode connectPeer} wires a peer to. */
export interface PeerWiring {
  /** The call's session: gets the decoded microphone audio and every data-channel event. */
  session: Session | TranslationSession;
  /** The data channel's sink (attached to the session here). */
  dc: DataChannelSink;
  /** Handles one client event from the data channel. */
  onMessage(text: string): void;
  /** Whether the peer sends audio back (translated speech). */
  sendAudio: boolean;
}

/**
 * Answers an offer for `call` with a real peer: microphone audio goes to the session, the
 * `oai-events` channel to `onMessage`, `session.created` is sent when the channel opens, the
 * peer's close ends the call. Registers the call on success.
 */
export async function connectPeer(
  state: EmulatorState,
  call: CallRecord,
  offerSdp: string,
  wiring: PeerWiring,
): Promise<{ callId: string; answerSdp: string } | { error: string }> {
  const { session, dc } = wiring;
  call.session = session;
  session.attach(dc, false);
  session.onEnd = (reason) => void state.endCall(call, reason);
  let peer: Peer;
  try {
    // Loaded lazily so WebSocket-only users never load werift/opusscript.
    const { answerOffer } = await import("./webrtc.ts");
    peer = await answerOffer(offerSdp, {
      onAudio: (pcm) => session.pushAudio(pcm),
      onMessage: wiring.onMessage,
      onOpen: () => dc.opened({ event_id: ids.eventId(), ...session.createdEvent() }),
      onClose: (reason) => void state.endCall(call, `peer closed: ${reason}`),
    }, {
      iceAdditionalHostAddresses: state.options.iceAdditionalHostAddresses,
      sendAudio: wiring.sendAudio,
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

/**
 * The emulator's server-side WebRTC peer: answers a browser's SDP offer with werift, receives the
 * microphone track (Opus), decodes it to 24 kHz mono PCM16, carries JSON events on the
 * `oai-events` data channel and, when asked (`sendAudio`, translation calls), sends audio back on
 * the same audio m-line (`rtp_sender.ts`).
 *
 * Deno permissions: `--allow-net` (werift binds UDP on 0.0.0.0, so `--allow-net=127.0.0.1` is not
 * enough), `--allow-sys` (werift lists network interfaces; without it no ICE candidates are gathered
 * and {@linkcode answerOffer} throws), `--allow-read` of Deno's npm cache (opusscript loads its
 * .wasm from there) and `--allow-env` (werift and its dependencies read a few variables).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  MediaStream,
  type MediaStreamTrack,
  type RTCDataChannel,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
} from "npm:werift@0.24.4";
import OpusScript from "npm:opusscript@0.1.1";
import { guardDtls } from "./dtls_guard.ts";
import { OpusRtpSender } from "./rtp_sender.ts";
import { OUTPUT_RATE, RTP_CLOCK, RtpAudioSequencer } from "./rtp_sequencer.ts";

export {
  OUTPUT_RATE,
  type RtpAudioPacket,
  RtpAudioSequencer,
  type RtpAudioSequencerOptions,
} from "./rtp_sequencer.ts";

/** Callbacks from a {@linkcode Peer}. */
export interface PeerHandlers {
  /** Decoded mic audio, mono, 24 kHz, in arrival order (gaps filled with silence). */
  onAudio(pcm24k: Int16Array): void;
  /** A text message on the "oai-events" data channel. */
  onMessage(text: string): void;
  /** The "oai-events" channel is open. */
  onOpen(): void;
  /** Peer closed / ICE failed / closed by us. Called once. */
  onClose(reason: string): void;
}

/** A connected (or connecting) server-side peer. */
export interface Peer {
  /** The SDP answer to return to the caller (all ICE candidates included). */
  answerSdp: string;
  /** Sends on "oai-events"; queued until the channel opens, dropped after close. */
  send(text: string): void;
  /** Closes the connection; `onClose("closed by server")` follows if not already closed. */
  close(): Promise<void>;
  /**
   * Queues 24 kHz mono audio for the browser (peers answered with `sendAudio` only; otherwise
   * ignored). Sent at the real-time pace, silence in between.
   */
  writeAudio(pcm24k: Int16Array): void;
  /** Counters: RTP audio packets received, ms of audio delivered to `onAudio`, connection state. */
  stats(): PeerStats;
}

/** Counters of a {@linkcode Peer}. */
export interface PeerStats {
  /** RTP audio packets received. */
  audioPackets: number;
  /** Milliseconds of audio delivered to `onAudio`. */
  decodedMs: number;
  /** werift's connection state, or "closed". */
  state: string;
  /**
   * SCTP DATA chunks sent again (T3 timeout or fast retransmit). On loopback nothing is lost, so
   * anything above 0 means a record was dropped (see `dtls_guard.ts`) and the message was late.
   */
  sctpRetransmissions: number;
  /** RTP audio packets sent to the browser (0 unless answered with `sendAudio`). */
  audioPacketsSent: number;
  /** Of those, packets carrying written audio rather than filler silence. */
  audioFramesSent: number;
}

/** Options for {@linkcode answerOffer}. */
export interface AnswerOptions {
  /**
   * Extra host addresses for ICE (default `["127.0.0.1"]`): on machines whose only interface is
   * loopback, ICE connects only with this plus Chromium's `--allow-loopback-in-peer-connection`.
   */
  iceAdditionalHostAddresses?: string[];
  /**
   * Send audio back on the audio m-line (answer `sendrecv`, or `sendonly` to a `recvonly` offer)
   * with a stream id, so the browser's `ontrack` gets `streams[0]`; see {@linkcode Peer.writeAudio}.
   * Default false: receive only, as a transcription session sends no audio.
   */
  sendAudio?: boolean;
}

/** The offer is not an SDP offer with an audio m-line and a WebRTC data channel m-line. */
export class InvalidSdpError extends Error {
  /**
   * @param message What is wrong with the offer.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidSdpError";
  }
}

/** Label of the Realtime API's event channel. */
export const EVENTS_CHANNEL = "oai-events";
/** Payload type Chromium uses for Opus; the answer offers only this codec. */
const OPUS_PAYLOAD_TYPE = 111;
const GATHER_TIMEOUT_MS = 5000;
/** A peer that does not connect within this time is closed. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Longest wait for the browser to answer the data channel's stream reset when closing. */
const RESET_WAIT_MS = 1500;
/** How long the last SCTP packets get to leave before the peer (and its socket) closes. */
const FLUSH_WAIT_MS = 50;
/** A peer that stays ICE-disconnected this long is closed. */
const DISCONNECTED_TIMEOUT_MS = 10_000;

/** The direction of the offer's first audio m-line (`sendrecv` when it has none). */
function offeredAudioDirection(sdp: string): string {
  const section = sdp.split(/^(?=m=)/m).find((m) => m.startsWith("m=audio "));
  const dir = section?.match(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m)?.[1];
  return dir ?? "sendrecv";
}

type OpusDecoder = { decode(payload: Uint8Array): Int16Array; close(): void };

/**
 * Creates an Opus decoder producing 24 kHz mono (libopus downmixes and resamples internally).
 *
 * @returns A decoder; `decode` throws on a corrupt packet.
 */
export function createOpusDecoder(): OpusDecoder {
  const opus = new OpusScript(OUTPUT_RATE, 1, OpusScript.Application.VOIP);
  let closed = false;
  return {
    decode(payload) {
      const out = opus.decode(
        payload as unknown as Parameters<typeof opus.decode>[0],
      );
      // Copy: the Buffer may sit at an odd offset in a shared pool.
      const pcm = new Int16Array(out.length >> 1);
      new Uint8Array(pcm.buffer).set(out.subarray(0, pcm.length * 2));
      return pcm;
    },
    close() {
      if (!closed) opus.delete();
      closed = true;
    },
  };
}

// Fail at import, not on the first call, if the wasm decoder cannot load (e.g. no read permission
// for Deno's npm cache).
createOpusDecoder().close();

function validateOffer(sdp: unknown): string {
  if (typeof sdp !== "string" || !sdp.trimStart().startsWith("v=0")) {
    throw new InvalidSdpError(
      "Offer is not an SDP document (must start with v=0)",
    );
  }
  const lines = sdp.split(/\r?\n/);
  const audio = lines.find((l) => l.startsWith("m=audio "));
  if (!audio) throw new InvalidSdpError("Offer has no audio m-line");
  if (
    !lines.some((l) => l.startsWith("m=application ") && l.includes("webrtc-datachannel"))
  ) {
    throw new InvalidSdpError(
      "Offer has no m=application line with webrtc-datachannel",
    );
  }
  if (!lines.some((l) => /^a=rtpmap:\d+ opus\/48000/i.test(l))) {
    throw new InvalidSdpError("Offer does not offer the Opus codec");
  }
  if (!lines.some((l) => l.startsWith("a=fingerprint:"))) {
    throw new InvalidSdpError("Offer has no DTLS fingerprint");
  }
  if (!lines.some((l) => l.startsWith("a=ice-ufrag:"))) {
    throw new InvalidSdpError("Offer has no ICE credentials");
  }
  return sdp.endsWith("\n") ? sdp : `${sdp}\r\n`;
}

/** The part of werift's internal SCTP association `closePeer` listens to. */
interface SctpResetEvents {
  onReconfigStreams?: {
    subscribe(fn: (streamIds: number[]) => void): { unSubscribe(): void };
  };
}

/**
 * Closes `pc` so that the browser notices at once. werift's `close()` stops DTLS and ICE before
 * SCTP, so the SCTP ABORT it means to send never leaves, and Chromium would notice only through
 * ICE consent checks (`disconnected` after ~5 s, `failed` later). So first the channel's stream is
 * reset in both directions (SCTP RE-CONFIG, retransmitted by werift until answered: our request,
 * Chromium's answer and its own request, which werift answers; Chromium then fires `close` on its
 * `RTCDataChannel`), then, once both resets are done or after {@linkcode RESET_WAIT_MS}, the
 * association is aborted over the still-open DTLS transport, then the peer is closed.
 */
async function closePeer(pc: RTCPeerConnection, channel: RTCDataChannel | undefined) {
  try {
    const id = channel?.id;
    if (channel?.readyState === "open" && id !== undefined) {
      const sctp = (pc.sctpTransport as unknown as { sctp?: SctpResetEvents } | undefined)?.sctp;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let subscription: { unSubscribe(): void } | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, RESET_WAIT_MS);
        let resets = 0;
        subscription = sctp?.onReconfigStreams?.subscribe((streamIds) => {
          if (streamIds.includes(id) && ++resets === 2) resolve();
        });
        channel.close();
      });
      clearTimeout(timer);
      subscription?.unSubscribe();
    }
    await pc.sctpTransport?.stop();
    // The last SCTP packets (our answer to Chromium's stream reset, the ABORT) are written to the
    // UDP socket asynchronously; closing the peer at once could drop them, and then Chromium would
    // notice only by ICE. Give them a moment to leave.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_MS));
  } catch (error) {
    console.error("webrtc: SCTP close failed:", error);
  }
  await pc.close().catch(() => {});
}

/** The part of werift's internal SCTP association the counter touches. */
interface SctpInternals {
  sendChunk(chunk: { type: number; sentCount?: number }): Promise<void>;
}

/** Counts DATA chunks werift sends a second time or more (chunk type 0, `sentCount` > 1). */
function countSctpRetransmissions(pc: RTCPeerConnection): () => number {
  const sctp = (pc.sctpTransport as unknown as { sctp?: SctpInternals } | undefined)?.sctp;
  if (!sctp?.sendChunk) return () => 0;
  let count = 0;
  const sendChunk = sctp.sendChunk.bind(sctp);
  sctp.sendChunk = (chunk) => {
    if (chunk.type === 0 && (chunk.sentCount ?? 0) > 1) count++;
    return sendChunk(chunk);
  };
  return () => count;
}

function sendNow(channel: RTCDataChannel, text: string): void {
  try {
    channel.send(text);
  } catch (error) {
    // The channel closed between the state check and the send; onClose follows.
    console.error("webrtc: send on oai-events failed:", error);
  }
}

function waitForGathering(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === "complete") done();
    });
    function done() {
      clearTimeout(timer);
      unSubscribe();
      resolve();
    }
  });
}

/**
 * Answers a browser's SDP offer with a real WebRTC peer. Resolves once the answer (with every ICE
 * candidate) is ready; the connection then completes in the background, and `handlers.onOpen`
 * fires when the `oai-events` channel opens.
 *
 * Only Opus is accepted on the audio m-line, under the offer's payload type (111 in Chromium's
 * offers); `red/48000` and every other codec are left out of the answer, so payloads are always
 * plain Opus, and packets with any other payload type are dropped. Audio reaches `onAudio` decoded to
 * 24 kHz mono, in order, with lost packets and DTX pauses filled with silence from the RTP
 * timestamps, so the audio timeline matches the sender's clock.
 *
 * @example
 * ```ts
 * const peer = await answerOffer(offerSdp, {
 *   onAudio: (pcm) => vad.push(pcm),
 *   onMessage: (text) => console.log(JSON.parse(text)),
 *   onOpen: () => peer.send(JSON.stringify({ type: "session.created" })),
 *   onClose: (reason) => console.log("closed:", reason),
 * });
 * return new Response(peer.answerSdp, { headers: { "content-type": "application/sdp" } });
 * ```
 *
 * @param offerSdp The browser's offer.
 * @param handlers Callbacks for audio, messages, open and close.
 * @param options ICE options.
 * @returns The peer, with `answerSdp` ready to return.
 * @throws {InvalidSdpError} If the offer is not an SDP offer with an audio m-line (offering Opus) and
 * an `m=application … webrtc-datachannel` line, or werift rejects it.
 * @throws {Error} If no ICE candidate could be gathered (usually missing `--allow-sys`).
 */
export async function answerOffer(
  offerSdp: string,
  handlers: PeerHandlers,
  options: AnswerOptions = {},
): Promise<Peer> {
  const sdp = validateOffer(offerSdp);
  const pc = new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: "audio/opus",
          clockRate: RTP_CLOCK,
          channels: 2,
          payloadType: OPUS_PAYLOAD_TYPE,
        }),
      ],
      video: [],
    },
    iceAdditionalHostAddresses: options.iceAdditionalHostAddresses ??
      ["127.0.0.1"],
    // werift defaults to a public STUN server; offline its DNS lookup only delays gathering.
    iceServers: [],
  });

  // A throwing handler must not break werift's event loop (or the process): report it and go on.
  const safely = <A extends unknown[]>(name: string, fn: (...args: A) => void) => (...args: A) => {
    try {
      fn(...args);
    } catch (error) {
      console.error(`webrtc: ${name} handler threw:`, error);
    }
  };
  const onAudio = safely("onAudio", handlers.onAudio.bind(handlers));
  const onMessage = safely("onMessage", handlers.onMessage.bind(handlers));
  const onOpen = safely("onOpen", handlers.onOpen.bind(handlers));
  const onClose = safely("onClose", handlers.onClose.bind(handlers));
  const decoder = createOpusDecoder();
  let audioPackets = 0;
  let retransmissions = () => 0;
  let opusPayloadType = OPUS_PAYLOAD_TYPE;
  let closed = false;
  let channel: RTCDataChannel | undefined;
  let audioOut: OpusRtpSender | undefined;
  const outbox: string[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sequencer = new RtpAudioSequencer(
    (payload) => decoder.decode(payload),
    (pcm) => {
      if (!closed) onAudio(pcm);
    },
  );

  let closing: Promise<void> = Promise.resolve();
  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearTimeout(timer);
    sequencer.close();
    audioOut?.close();
    outbox.length = 0;
    closing = closePeer(pc, channel);
    decoder.close();
    onClose(reason);
  };
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    return timer;
  };

  const connectTimer = later(
    CONNECT_TIMEOUT_MS,
    () => finish("connection timed out"),
  );

  pc.onTrack.subscribe((track: MediaStreamTrack) => {
    if (track.kind !== "audio") return;
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (closed || rtp.header.payloadType !== opusPayloadType) return;
      audioPackets++;
      sequencer.push({
        sequenceNumber: rtp.header.sequenceNumber,
        timestamp: rtp.header.timestamp,
        ssrc: rtp.header.ssrc,
        payload: rtp.payload,
      });
    });
  });

  pc.onDataChannel.subscribe((dc: RTCDataChannel) => {
    if (dc.label !== EVENTS_CHANNEL || channel) return;
    channel = dc;
    const opened = () => {
      if (closed) return;
      for (const text of outbox.splice(0)) sendNow(dc, text);
      onOpen();
    };
    dc.onMessage.subscribe((data) => {
      if (closed) return;
      onMessage(typeof data === "string" ? data : new TextDecoder().decode(data));
    });
    dc.stateChanged.subscribe((state) => {
      if (state === "open") opened();
      else if (state === "closed") finish("data channel closed");
    });
    if (dc.readyState === "open") opened();
  });

  let disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  pc.connectionStateChange.subscribe((state) => {
    if (state === "connected") {
      clearTimeout(connectTimer);
      timers.delete(connectTimer);
      audioOut?.start();
    }
    if (state === "failed") finish("connection failed");
    else if (state === "closed") finish("peer closed");
  });
  pc.iceConnectionStateChange.subscribe((state) => {
    if (state === "failed") finish("ICE failed");
    else if (state === "disconnected") {
      disconnectTimer ??= later(
        DISCONNECTED_TIMEOUT_MS,
        () => finish("ICE disconnected"),
      );
    } else if (state === "connected" || state === "completed") {
      clearTimeout(disconnectTimer);
      if (disconnectTimer) timers.delete(disconnectTimer);
      disconnectTimer = undefined;
    }
  });

  let answerSdp: string;
  try {
    try {
      await pc.setRemoteDescription({ type: "offer", sdp });
    } catch (error) {
      throw new InvalidSdpError(
        `Offer was rejected: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const audio = pc.getTransceivers().find((t) => t.kind === "audio");
    const opus = audio?.codecs.find((c) => c.mimeType.toLowerCase() === "audio/opus");
    if (!opus) throw new InvalidSdpError("Offer does not offer the Opus codec");
    opusPayloadType = opus.payloadType;
    guardDtls(pc);
    retransmissions = countSctpRetransmissions(pc);
    const offered = offeredAudioDirection(sdp);
    const send = options.sendAudio === true && (offered === "sendrecv" || offered === "recvonly");
    for (const t of pc.getTransceivers()) {
      if (t.kind !== "audio") continue;
      // Receive only unless asked: a transcription session sends no audio back.
      if (!send) {
        t.setDirection("recvonly");
        continue;
      }
      t.setDirection(offered === "recvonly" ? "sendonly" : "sendrecv");
      t.sender.setStreams([new MediaStream()]);
      const sender = t.sender;
      audioOut ??= new OpusRtpSender((rtp) => {
        const header = new RtpHeader({
          payloadType: opusPayloadType,
          sequenceNumber: rtp.sequenceNumber,
          timestamp: rtp.timestamp,
          marker: rtp.marker,
        });
        sender.sendRtp(new RtpPacket(header, Buffer.from(rtp.payload))).catch(() => {});
      });
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc);
    answerSdp = pc.localDescription?.sdp ?? "";
    if (!/^a=candidate:/m.test(answerSdp)) {
      throw new Error(
        "No ICE candidates were gathered: run Deno with --allow-sys and --allow-net",
      );
    }
  } catch (error) {
    closed = true; // no onClose for a peer that was never returned
    for (const timer of timers) clearTimeout(timer);
    sequencer.close();
    audioOut?.close();
    await pc.close().catch(() => {});
    decoder.close();
    throw error;
  }

  return {
    answerSdp,
    send(text: string) {
      if (closed) return;
      if (channel?.readyState === "open") sendNow(channel, text);
      else outbox.push(text);
    },
    async close() {
      if (!closed) {
        sequencer.flush();
        finish("closed by server");
      }
      await closing;
    },
    writeAudio(pcm24k: Int16Array) {
      if (!closed) audioOut?.write(pcm24k);
    },
    stats() {
      return {
        audioPackets,
        sctpRetransmissions: retransmissions(),
        decodedMs: sequencer.counters.samples * 1000 / OUTPUT_RATE,
        state: closed ? "closed" : pc.connectionState,
        audioPacketsSent: audioOut?.counters.packets ?? 0,
        audioFramesSent: audioOut?.counters.audioFrames ?? 0,
      };
    },
  };
}

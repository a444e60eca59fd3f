/**
 * The emulator's server-side WebRTC peer: answers a browser's SDP offer with werift, receives the
 * microphone track (Opus), decodes it to 24 kHz mono PCM16, and carries JSON events on the
 * `oai-events` data channel.
 *
 * Deno permissions: `--allow-net` (werift binds UDP on 0.0.0.0, so `--allow-net=127.0.0.1` is not
 * enough), `--allow-sys` (werift lists network interfaces; without it no ICE candidates are gathered
 * and {@linkcode answerOffer} throws), `--allow-read` of Deno's npm cache (opusscript loads its
 * .wasm from there) and `--allow-env` (werift and its dependencies read a few variables).
 *
 * @module
 */

import {
  type MediaStreamTrack,
  type RTCDataChannel,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RtpPacket,
} from "npm:werift@0.24.4";
import OpusScript from "npm:opusscript@0.1.1";

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
  /** Counters: RTP audio packets received, ms of audio delivered to `onAudio`, connection state. */
  stats(): { audioPackets: number; decodedMs: number; state: string };
}

/** Options for {@linkcode answerOffer}. */
export interface AnswerOptions {
  /**
   * Extra host addresses for ICE (default `["127.0.0.1"]`): on machines whose only interface is
   * loopback, ICE connects only with this plus Chromium's `--allow-loopback-in-peer-connection`.
   */
  iceAdditionalHostAddresses?: string[];
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
/** Sample rate of decoded audio (the Realtime API's PCM rate). */
export const OUTPUT_RATE = 24000;
/** Opus RTP timestamps always run at 48 kHz. */
const RTP_CLOCK = 48000;
/** Payload type Chromium uses for Opus; the answer offers only this codec. */
const OPUS_PAYLOAD_TYPE = 111;
const GATHER_TIMEOUT_MS = 5000;
/** A peer that does not connect within this time is closed. */
const CONNECT_TIMEOUT_MS = 30_000;
/** A peer that stays ICE-disconnected this long is closed. */
const DISCONNECTED_TIMEOUT_MS = 10_000;

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

/** One received RTP packet, as far as audio sequencing needs it. */
export interface RtpAudioPacket {
  /** 16-bit RTP sequence number. */
  sequenceNumber: number;
  /** 32-bit RTP timestamp (48 kHz clock for Opus). */
  timestamp: number;
  /** Synchronisation source; a change restarts sequencing. */
  ssrc: number;
  /** Opus payload. */
  payload: Uint8Array;
}

/** Options for {@linkcode RtpAudioSequencer}. */
export interface RtpAudioSequencerOptions {
  /** Packets held after a missing one before it is given up as lost (default 3, about 60 ms). */
  maxReorderPackets?: number;
  /** Longest wait for a missing packet in ms (default 80). */
  maxWaitMs?: number;
  /**
   * Longest timestamp gap filled with silence, in ms (default 10 000). Longer jumps are taken as a
   * timestamp discontinuity and not filled.
   */
  maxGapMs?: number;
}

/**
 * Puts RTP audio packets in order, decodes them, and keeps the output timeline true to the RTP
 * timestamps: lost packets (sequence gaps) and Opus DTX (timestamp jumps with no sequence gap, sent
 * while the mic is silent) become digital silence of the right length, late or duplicate packets
 * are dropped, and corrupt packets are skipped (the next packet's timestamp fills their time).
 */
export class RtpAudioSequencer {
  readonly #decode: (payload: Uint8Array) => Int16Array;
  readonly #emit: (pcm: Int16Array) => void;
  readonly #maxReorder: number;
  readonly #maxWaitMs: number;
  readonly #maxGapTicks: number;
  #ssrc: number | undefined;
  /** Extended sequence number expected next. */
  #nextSeq = 0;
  readonly #pending = new Map<number, RtpAudioPacket>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** RTP timestamp where the next packet is expected to start. */
  #nextTimestamp: number | undefined;
  /** Sub-sample remainder when converting 48 kHz ticks to 24 kHz samples. */
  #tickRemainder = 0;
  #closed = false;
  /** Counters for diagnostics. */
  readonly counters = {
    packets: 0,
    lost: 0,
    late: 0,
    decodeErrors: 0,
    samples: 0,
    filledSamples: 0,
  };

  /**
   * @param decode Decodes one payload to 24 kHz mono PCM16.
   * @param emit Receives audio in timeline order.
   * @param options Reordering and gap limits.
   */
  constructor(
    decode: (payload: Uint8Array) => Int16Array,
    emit: (pcm: Int16Array) => void,
    options: RtpAudioSequencerOptions = {},
  ) {
    this.#decode = decode;
    this.#emit = emit;
    this.#maxReorder = options.maxReorderPackets ?? 3;
    this.#maxWaitMs = options.maxWaitMs ?? 80;
    this.#maxGapTicks = (options.maxGapMs ?? 10_000) * RTP_CLOCK / 1000;
  }

  /**
   * Accepts one packet; audio that is ready is emitted synchronously.
   *
   * @param packet The RTP packet.
   */
  push(packet: RtpAudioPacket): void {
    if (this.#closed) return;
    this.counters.packets++;
    if (packet.ssrc !== this.#ssrc) {
      // New source (or first packet): play what is held, then start over from this packet.
      this.flush();
      this.#ssrc = packet.ssrc;
      this.#nextSeq = packet.sequenceNumber;
      if (this.#nextTimestamp !== undefined) {
        this.#nextTimestamp = packet.timestamp; // continue the timeline without a gap
      }
    }
    // Signed distance from the expected sequence number, across the 16-bit wrap.
    const diff = ((packet.sequenceNumber - this.#nextSeq + 0x8000) & 0xffff) -
      0x8000;
    const ext = this.#nextSeq + diff;
    if (diff < 0 || this.#pending.has(ext)) {
      this.counters.late++;
      return;
    }
    this.#pending.set(ext, packet);
    this.#drain();
    if (this.#pending.size >= this.#maxReorder) {
      this.#skipGap();
    } else if (this.#pending.size > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#skipGap();
      }, this.#maxWaitMs);
    }
  }

  /** Emits everything held, treating missing packets as lost. */
  flush(): void {
    while (this.#pending.size > 0) this.#skipGap();
  }

  /** Stops timers and drops anything held. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #drain(): void {
    let packet: RtpAudioPacket | undefined;
    while ((packet = this.#pending.get(this.#nextSeq)) !== undefined) {
      this.#pending.delete(this.#nextSeq);
      this.#nextSeq++;
      this.#play(packet);
    }
    if (this.#pending.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #skipGap(): void {
    if (this.#pending.size === 0) return;
    const next = Math.min(...this.#pending.keys());
    this.counters.lost += next - this.#nextSeq;
    this.#nextSeq = next;
    this.#drain();
  }

  #play(packet: RtpAudioPacket): void {
    // Padding-only packets carry no audio; the next packet's timestamp accounts for their time.
    if (packet.payload.length === 0) return;
    let pcm: Int16Array;
    try {
      pcm = this.#decode(packet.payload);
    } catch {
      this.counters.decodeErrors++;
      return;
    }
    if (this.#nextTimestamp !== undefined) {
      // Signed 32-bit distance between where this packet starts and where the last one ended.
      const gap = (packet.timestamp - this.#nextTimestamp) | 0;
      if (gap > 0 && gap <= this.#maxGapTicks) {
        const exact = gap * OUTPUT_RATE / RTP_CLOCK + this.#tickRemainder;
        const samples = Math.floor(exact);
        this.#tickRemainder = exact - samples;
        if (samples > 0) {
          this.counters.filledSamples += samples;
          this.#output(new Int16Array(samples));
        }
      }
    }
    this.#nextTimestamp = (packet.timestamp +
      Math.round(pcm.length * RTP_CLOCK / OUTPUT_RATE)) >>> 0;
    if (pcm.length > 0) this.#output(pcm);
  }

  #output(pcm: Int16Array): void {
    this.counters.samples += pcm.length;
    this.#emit(pcm);
  }
}

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

/** DTLS handshake message types of the server's flight 4 (ServerHello … ServerHelloDone). */
const SERVER_FLIGHT_4 = new Set([2, 11, 12, 13, 14]);

/** The parts of werift's internal DTLS socket the guard below touches. */
interface DtlsSocketInternals {
  dtls: { flight: number };
  onHandleHandshakes: (assembled: { msg_type: number }[]) => Promise<void>;
}

/**
 * Works around a werift 0.24.4 DTLS client race. Chromium retransmits its flight 4 if our flight 5
 * has not arrived within about 50 ms, which happens on a busy machine. werift then handles the
 * copy asynchronously, and if that finishes after the handshake completed it sends flight 5 again
 * with NEW keys: the connection reports "connecting" forever and the data channel never opens
 * (seen about 1 run in 5 with 2 cores under load). Once flight 5 is sent, every flight-4 message
 * can only be a retransmission, so drop them; werift's own timer retransmits flight 5 if needed.
 */
function guardDtlsRetransmissions(pc: RTCPeerConnection): void {
  for (const transport of pc.dtlsTransports) {
    const { unSubscribe } = transport.onStateChange.subscribe((state) => {
      if (state !== "connecting") return;
      unSubscribe();
      // The socket is created synchronously right after this event fires.
      queueMicrotask(() => {
        const socket = transport.dtls as unknown as DtlsSocketInternals | undefined;
        if (transport.role !== "client" || !socket?.onHandleHandshakes) return;
        const handle = socket.onHandleHandshakes;
        socket.onHandleHandshakes = (assembled) => {
          const fresh = socket.dtls.flight >= 5
            ? assembled.filter((h) => !SERVER_FLIGHT_4.has(h.msg_type))
            : assembled;
          return fresh.length > 0 ? handle(fresh) : Promise.resolve();
        };
      });
    });
  }
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
  let opusPayloadType = OPUS_PAYLOAD_TYPE;
  let closed = false;
  let channel: RTCDataChannel | undefined;
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
    outbox.length = 0;
    closing = pc.close().catch(() => {});
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
    guardDtlsRetransmissions(pc);
    // Receive only: a transcription session sends no audio back.
    for (const t of pc.getTransceivers()) {
      if (t.kind === "audio") t.setDirection("recvonly");
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
    stats() {
      return {
        audioPackets,
        decodedMs: sequencer.counters.samples * 1000 / OUTPUT_RATE,
        state: closed ? "closed" : pc.connectionState,
      };
    },
  };
}

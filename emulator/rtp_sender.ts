/**
 * The emulator's outgoing audio: 24 kHz mono PCM16 written by a session is Opus-encoded in 20 ms
 * frames and handed out as RTP payloads at the real-time pace (one frame every 20 ms on the 48 kHz
 * RTP clock). When nothing is queued the frame is silence, so the browser's remote track carries a
 * continuous stream, as a real peer's does.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import OpusScript from "npm:opusscript@0.1.1";
import { OUTPUT_RATE, RTP_CLOCK } from "./rtp_sequencer.ts";

/** Duration of one Opus frame. */
export const SEND_FRAME_MS = 20;
/** Samples of one 20 ms frame at 24 kHz. */
const FRAME_SAMPLES = OUTPUT_RATE * SEND_FRAME_MS / 1000;
/** RTP timestamp step of one frame (48 kHz clock). */
const FRAME_TICKS = RTP_CLOCK * SEND_FRAME_MS / 1000;
/** More queued audio than this is dropped (oldest first), so output never lags far behind. */
const MAX_QUEUE_MS = 2000;
/** At most this many overdue frames are sent in one tick (after a stalled event loop). */
const MAX_BURST = 5;

/** One outgoing RTP packet's content. */
export interface OutgoingRtp {
  /** Opus payload. */
  payload: Uint8Array;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit timestamp on the 48 kHz clock. */
  timestamp: number;
  /** Set on the first packet after a pause (none here: the stream is continuous). */
  marker: boolean;
}

/** Counters of an {@linkcode OpusRtpSender}. */
export interface RtpSenderCounters {
  /** Packets handed to `send`. */
  packets: number;
  /** Of those, frames that carried queued audio (the rest were silence). */
  audioFrames: number;
  /** Queued samples dropped because the queue was full. */
  droppedSamples: number;
}

/**
 * Creates an Opus encoder for 24 kHz mono voice.
 *
 * @returns An encoder of 480-sample frames; `close` frees it.
 */
export function createOpusEncoder(): {
  encode(frame: Int16Array): Uint8Array;
  close(): void;
} {
  const opus = new OpusScript(OUTPUT_RATE, 1, OpusScript.Application.AUDIO);
  let closed = false;
  return {
    encode(frame) {
      const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      return new Uint8Array(opus.encode(bytes, frame.length));
    },
    close() {
      if (!closed) opus.delete();
      closed = true;
    },
  };
}

/**
 * Paces queued PCM out as Opus RTP packets.
 *
 * @example
 * ```ts
 * const sender = new OpusRtpSender((rtp) => transceiver.sender.sendRtp(toPacket(rtp)));
 * sender.start();
 * sender.write(tone); // heard ~immediately, then silence again
 * sender.close();
 * ```
 */
export class OpusRtpSender {
  /** Counters. */
  readonly counters: RtpSenderCounters = { packets: 0, audioFrames: 0, droppedSamples: 0 };
  #send: (rtp: OutgoingRtp) => void;
  #encoder = createOpusEncoder();
  #queue: Int16Array[] = [];
  #queued = 0;
  #sequence = Math.floor(Math.random() * 0x10000);
  #timestamp = Math.floor(Math.random() * 0x100000000);
  #timer: number | undefined;
  #startedAt = 0;
  #sentFrames = 0;
  #closed = false;
  #silence = new Int16Array(FRAME_SAMPLES);

  /** @param send Called with each packet, in order, at the real-time pace. */
  constructor(send: (rtp: OutgoingRtp) => void) {
    this.#send = send;
  }

  /** Starts pacing (idempotent). */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#startedAt = performance.now();
    this.#timer = setInterval(() => this.#tick(), SEND_FRAME_MS);
  }

  /** Queues audio (24 kHz mono); it goes out after what is already queued. */
  write(pcm: Int16Array): void {
    if (this.#closed || pcm.length === 0) return;
    this.#queue.push(pcm.slice());
    this.#queued += pcm.length;
    const max = OUTPUT_RATE * MAX_QUEUE_MS / 1000;
    while (this.#queued > max && this.#queue.length > 1) {
      const old = this.#queue.shift()!;
      this.#queued -= old.length;
      this.counters.droppedSamples += old.length;
    }
  }

  /** Milliseconds of audio waiting to be sent. */
  get queuedMs(): number {
    return this.#queued * 1000 / OUTPUT_RATE;
  }

  /** Stops pacing and frees the encoder. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#queue = [];
    this.#queued = 0;
    this.#encoder.close();
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / SEND_FRAME_MS);
    // After a long stall, skip ahead rather than flood the peer.
    if (due - this.#sentFrames > MAX_BURST) this.#sentFrames = due - MAX_BURST;
    while (this.#sentFrames < due && !this.#closed) {
      this.#sentFrames++;
      this.#sendFrame();
    }
  }

  #takeFrame(): Int16Array | null {
    if (this.#queued === 0) return null;
    const frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    while (filled < FRAME_SAMPLES && this.#queue.length > 0) {
      const head = this.#queue[0];
      const n = Math.min(head.length, FRAME_SAMPLES - filled);
      frame.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
    this.#queued -= filled;
    return frame;
  }

  #sendFrame(): void {
    const frame = this.#takeFrame();
    if (frame) this.counters.audioFrames++;
    const payload = this.#encoder.encode(frame ?? this.#silence);
    const rtp: OutgoingRtp = {
      payload,
      sequenceNumber: this.#sequence,
      timestamp: this.#timestamp,
      marker: this.counters.packets === 0,
    };
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + FRAME_TICKS) >>> 0;
    this.counters.packets++;
    try {
      this.#send(rtp);
    } catch (error) {
      console.error("rtp_sender: send failed:", error);
    }
  }
}

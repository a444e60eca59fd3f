/**
 * Puts received RTP audio packets in order and decodes them onto a gap-free timeline (used by the
 * WebRTC peer in `webrtc.ts`).
 *
 * @module
 */

/** Sample rate of decoded audio (the Realtime API's PCM rate). */
export const OUTPUT_RATE = 24000;
/** Opus RTP timestamps always run at 48 kHz. */
export const RTP_CLOCK = 48000;

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

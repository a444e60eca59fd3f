/**
 * Workarounds for two bugs in werift 0.24.4's DTLS layer that a Chromium peer exposes. Both patch
 * werift's internal DTLS socket of one peer connection; nothing global is changed.
 *
 * @module
 */

import type { RTCPeerConnection } from "npm:werift@0.24.4";

/** DTLS handshake message types of the server's flight 4 (ServerHello … ServerHelloDone). */
const SERVER_FLIGHT_4 = new Set([2, 11, 12, 13, 14]);

/**
 * The first application-data record is sent with at least this record sequence number + 1. One
 * handshake uses far fewer records in epoch 0 (one per flight message; retransmissions reuse the
 * same records), so this is past the `Finished` record's number.
 */
export const FIRST_APPLICATION_RECORD_FLOOR = 64;

/** The parts of werift's internal DTLS socket the guards touch. */
interface DtlsSocketInternals {
  dtls: { flight: number; recordSequenceNumber: number };
  onHandleHandshakes?: (assembled: { msg_type: number }[]) => Promise<void>;
  send: (buf: Uint8Array, addr?: unknown) => Promise<void>;
}

/**
 * Applies both workarounds to every DTLS transport of `pc`. Call it after the remote description
 * is set (the transports exist) and before the handshake starts.
 *
 * 1. **Record sequence reuse (data-channel stall).** werift's `sendFinished()` switches to epoch 1,
 *    sends `Finished` with the NEXT epoch-0 sequence number (e.g. 6), and only then resets the
 *    counter to 0. Application data then counts 1, 2, … and record 6 of epoch 1 repeats the
 *    `Finished` record's number, so Chromium's DTLS replay check silently drops it. That record is
 *    the SCTP packet carrying the second data-channel message after it opens (`session.updated`
 *    after `session.created`); SCTP recovers it only by fast retransmit or the 1 s minimum RTO,
 *    so it and everything behind it arrived about 1.1 s late. Fix: before the first
 *    application-data record, move the counter past {@linkcode FIRST_APPLICATION_RECORD_FLOOR}
 *    (sequence numbers may skip; the receiver's replay window slides forward).
 * 2. **Flight 4 retransmission race (client role).** Chromium retransmits its flight 4 if our
 *    flight 5 has not arrived within about 50 ms, which happens on a busy machine. werift then
 *    handles the copy asynchronously, and if that finishes after the handshake completed it sends
 *    flight 5 again with NEW keys: the connection reports "connecting" forever and the data channel
 *    never opens (seen about 1 run in 5 with 2 cores under load). Once flight 5 is sent, every
 *    flight-4 message can only be a retransmission, so drop them; werift's own timer retransmits
 *    flight 5 if needed.
 *
 * @param pc The answering peer connection.
 */
export function guardDtls(pc: RTCPeerConnection): void {
  for (const transport of pc.dtlsTransports) {
    const { unSubscribe } = transport.onStateChange.subscribe((state) => {
      if (state !== "connecting") return;
      unSubscribe();
      // The socket is created synchronously right after this event fires.
      queueMicrotask(() => {
        const socket = transport.dtls as unknown as DtlsSocketInternals | undefined;
        if (!socket?.send) return;
        skipFinishedSequenceNumber(socket);
        if (transport.role === "client" && socket.onHandleHandshakes) {
          dropLateFlight4(socket);
        }
      });
    });
  }
}

function skipFinishedSequenceNumber(socket: DtlsSocketInternals): void {
  const send = socket.send;
  let first = true;
  socket.send = (buf, addr) => {
    if (first) {
      first = false;
      socket.dtls.recordSequenceNumber = Math.max(
        socket.dtls.recordSequenceNumber,
        FIRST_APPLICATION_RECORD_FLOOR,
      );
    }
    return send(buf, addr);
  };
}

function dropLateFlight4(socket: DtlsSocketInternals): void {
  const handle = socket.onHandleHandshakes!;
  socket.onHandleHandshakes = (assembled) => {
    const fresh = socket.dtls.flight >= 5
      ? assembled.filter((h) => !SERVER_FLIGHT_4.has(h.msg_type))
      : assembled;
    return fresh.length > 0 ? handle(fresh) : Promise.resolve();
  };
}

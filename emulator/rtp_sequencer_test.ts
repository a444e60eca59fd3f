import assert from "node:assert/strict";
import { type RtpAudioPacket, RtpAudioSequencer } from "./rtp_sequencer.ts";

// ---------------------------------------------------------------------------------------------
// RtpAudioSequencer: ordering, loss, DTX and wrap-around, with a fake decoder (one byte = a 20 ms
// frame at 24 kHz filled with that byte's value).

const FRAME = 480; // 20 ms at 24 kHz
const TICKS = 960; // 20 ms at 48 kHz

function fakeDecode(payload: Uint8Array): Int16Array {
  if (payload[0] === 0xff) throw new Error("Corrupt packet");
  return new Int16Array(FRAME).fill(payload[0]);
}

function collect(options = {}) {
  const out: number[] = [];
  const sequencer = new RtpAudioSequencer(
    fakeDecode,
    (pcm) => out.push(...pcm),
    options,
  );
  const packet = (
    seq: number,
    ts: number,
    value: number,
    ssrc = 1,
  ): RtpAudioPacket => ({
    sequenceNumber: seq & 0xffff,
    timestamp: ts >>> 0,
    ssrc,
    payload: new Uint8Array([value]),
  });
  /** Run-length summary: [value, samples] pairs. */
  const runs = () => {
    const result: [number, number][] = [];
    for (const v of out) {
      const last = result[result.length - 1];
      if (last && last[0] === v) last[1]++;
      else result.push([v, 1]);
    }
    return result;
  };
  return { sequencer, packet, runs, out };
}

Deno.test("RtpAudioSequencer plays in-order packets back to back", () => {
  const { sequencer, packet, runs } = collect();
  for (let i = 0; i < 3; i++) {
    sequencer.push(packet(100 + i, 5000 + i * TICKS, i + 1));
  }
  assert.deepEqual(runs(), [[1, FRAME], [2, FRAME], [3, FRAME]]);
  sequencer.close();
});

Deno.test("RtpAudioSequencer reorders late packets and drops duplicates", () => {
  const { sequencer, packet, runs } = collect();
  sequencer.push(packet(10, 0, 1));
  sequencer.push(packet(12, 2 * TICKS, 3)); // 11 is late
  assert.deepEqual(runs(), [[1, FRAME]]);
  sequencer.push(packet(11, TICKS, 2));
  sequencer.push(packet(11, TICKS, 2)); // duplicate
  sequencer.push(packet(9, -TICKS, 9)); // older than anything played
  assert.deepEqual(runs(), [[1, FRAME], [2, FRAME], [3, FRAME]]);
  assert.equal(sequencer.counters.late, 2);
  sequencer.close();
});

Deno.test("RtpAudioSequencer fills a lost packet with silence once the reorder depth is reached", () => {
  const { sequencer, packet, runs } = collect({ maxReorderPackets: 3 });
  sequencer.push(packet(1, 0, 1));
  // 2 is lost.
  sequencer.push(packet(3, 2 * TICKS, 3));
  sequencer.push(packet(4, 3 * TICKS, 4));
  assert.deepEqual(runs(), [[1, FRAME]]);
  sequencer.push(packet(5, 4 * TICKS, 5));
  assert.deepEqual(runs(), [[1, FRAME], [0, FRAME], [3, FRAME], [4, FRAME], [
    5,
    FRAME,
  ]]);
  assert.equal(sequencer.counters.lost, 1);
  sequencer.close();
});

Deno.test("RtpAudioSequencer gives up on a lost packet after maxWaitMs", async () => {
  const { sequencer, packet, runs } = collect({ maxWaitMs: 30 });
  sequencer.push(packet(1, 0, 1));
  sequencer.push(packet(3, 2 * TICKS, 3));
  assert.deepEqual(runs(), [[1, FRAME]]);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.deepEqual(runs(), [[1, FRAME], [0, FRAME], [3, FRAME]]);
  sequencer.close();
});

Deno.test("RtpAudioSequencer fills DTX pauses from RTP timestamps", () => {
  const { sequencer, packet, runs } = collect();
  sequencer.push(packet(1, 0, 1));
  // DTX: consecutive sequence numbers, timestamp 400 ms later.
  sequencer.push(packet(2, TICKS + 400 * 48, 2));
  assert.deepEqual(runs(), [[1, FRAME], [0, 400 * 24], [2, FRAME]]);
  assert.equal(sequencer.counters.lost, 0);
  sequencer.close();
});

Deno.test("RtpAudioSequencer handles sequence and timestamp wrap-around", () => {
  const { sequencer, packet, runs } = collect();
  sequencer.push(packet(0xfffe, 2 ** 32 - 2 * TICKS, 1));
  sequencer.push(packet(0xffff, 2 ** 32 - TICKS, 2));
  sequencer.push(packet(0x10000, 2 ** 32 + TICKS, 3)); // one frame of DTX across the wrap
  assert.deepEqual(runs(), [[1, FRAME], [2, FRAME], [0, FRAME], [3, FRAME]]);
  sequencer.close();
});

Deno.test("RtpAudioSequencer skips corrupt packets and keeps their time as silence", () => {
  const { sequencer, packet, runs } = collect();
  sequencer.push(packet(1, 0, 1));
  sequencer.push(packet(2, TICKS, 0xff));
  sequencer.push(packet(3, 2 * TICKS, 3));
  assert.deepEqual(runs(), [[1, FRAME], [0, FRAME], [3, FRAME]]);
  assert.equal(sequencer.counters.decodeErrors, 1);
  sequencer.close();
});

Deno.test("RtpAudioSequencer does not fill timestamp jumps beyond maxGapMs", () => {
  const { sequencer, packet, runs } = collect({ maxGapMs: 1000 });
  sequencer.push(packet(1, 0, 1));
  sequencer.push(packet(2, TICKS + 5000 * 48, 2));
  // A new SSRC continues the timeline without a gap.
  sequencer.push(packet(7000, 123456, 3, 2));
  assert.deepEqual(runs(), [[1, FRAME], [2, FRAME], [3, FRAME]]);
  sequencer.close();
});

import assert from "node:assert/strict";
import { createOpusEncoder, OpusRtpSender, type OutgoingRtp } from "./rtp_sender.ts";
import { until } from "./testkit.ts";
import { createOpusDecoder } from "./webrtc.ts";

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

function tone(samples: number, amplitude = 6000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * 440 * i / 24000));
  }
  return out;
}

Deno.test("createOpusEncoder: 20 ms frames that the emulator's own decoder reads back", () => {
  const encoder = createOpusEncoder();
  const decoder = createOpusDecoder();
  try {
    let last: Int16Array = new Int16Array(0);
    const input = tone(480 * 10);
    for (let i = 0; i < 10; i++) {
      last = decoder.decode(encoder.encode(input.subarray(i * 480, (i + 1) * 480)));
      assert.equal(last.length, 480);
    }
    // Past the codec's start-up, the tone comes back at about its level (6000 peak → ~4243 RMS).
    assert.ok(Math.abs(rms(last) - 4243) < 800, `rms ${rms(last)}`);
    // Silence is silence again once the codec's look-ahead has passed.
    for (let i = 0; i < 3; i++) last = decoder.decode(encoder.encode(new Int16Array(480)));
    assert.ok(rms(last) < 400, `rms ${rms(last)}`);
  } finally {
    encoder.close();
    decoder.close();
  }
});

Deno.test("OpusRtpSender: continuous packets, written audio in order, silence between", async () => {
  const packets: OutgoingRtp[] = [];
  const sender = new OpusRtpSender((rtp) => packets.push(rtp));
  const decoder = createOpusDecoder();
  try {
    sender.start();
    await until(() => packets.length >= 5, 5000, "silent packets");
    sender.write(tone(480 * 10));
    assert.equal(sender.queuedMs, 200);
    await until(() => sender.counters.audioFrames === 10, 5000, "the written audio");
    await until(() => packets.length >= sender.counters.audioFrames + 10, 5000, "silence after");
    sender.close();
    const n = packets.length;
    // Sequence numbers and 48 kHz timestamps advance by one frame each, without gaps.
    for (let i = 1; i < n; i++) {
      assert.equal(packets[i].sequenceNumber, (packets[i - 1].sequenceNumber + 1) & 0xffff);
      assert.equal(packets[i].timestamp, (packets[i - 1].timestamp + 960) >>> 0);
    }
    assert.ok(packets[0].marker && !packets[1].marker);
    const levels = packets.map((p) => rms(decoder.decode(p.payload)));
    const loud = levels.map((l, i) => l > 1000 ? i : -1).filter((i) => i >= 0);
    // The ten tone frames are consecutive (Opus smears at most a frame at each edge).
    assert.ok(loud.length >= 9 && loud.length <= 12, JSON.stringify(levels.map(Math.round)));
    assert.equal(loud.at(-1)! - loud[0], loud.length - 1);
    assert.ok(levels.at(-1)! < 400);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(packets.length, n, "nothing is sent after close");
  } finally {
    sender.close();
    decoder.close();
  }
});

Deno.test("OpusRtpSender: a full queue drops the oldest audio", () => {
  const sender = new OpusRtpSender(() => {});
  try {
    for (let i = 0; i < 30; i++) sender.write(tone(2400));
    assert.ok(sender.queuedMs <= 2000, `${sender.queuedMs}`);
    assert.equal(sender.counters.droppedSamples, 30 * 2400 - 48000);
  } finally {
    sender.close();
  }
});

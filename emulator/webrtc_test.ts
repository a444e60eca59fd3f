import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import OpusScript from "npm:opusscript@0.1.1";
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from "npm:werift@0.24.4";
import { readWav, resample } from "./audio.ts";
import {
  answerOffer,
  createOpusDecoder,
  InvalidSdpError,
  type Peer,
  type RtpAudioPacket,
  RtpAudioSequencer,
} from "./webrtc.ts";
import { type VadEvent, VoiceActivityDetector } from "./vad.ts";
import { launchBrowser } from "../testing/browser.ts";
import { makeSilenceWav, makeSpeechWav, type SpeechWav } from "../testing/speech.ts";

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

Deno.test("createOpusDecoder decodes 48 kHz Opus to 24 kHz mono", () => {
  const encoder = new OpusScript(48000, 2, OpusScript.Application.AUDIO);
  const decoder = createOpusDecoder();
  try {
    const pcm = new Int16Array(960 * 2);
    for (let i = 0; i < 960; i++) {
      const v = Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / 48000));
      pcm[2 * i] = v;
      pcm[2 * i + 1] = v;
    }
    const packet = encoder.encode(
      new Uint8Array(pcm.buffer) as unknown as Parameters<
        typeof encoder.encode
      >[0],
      960,
    );
    const out = decoder.decode(new Uint8Array(packet));
    assert.equal(out.length, 480);
    assert.throws(() => decoder.decode(new Uint8Array([0xff, 0xff, 0xff])));
  } finally {
    encoder.delete();
    decoder.close();
  }
});

// ---------------------------------------------------------------------------------------------
// SDP validation.

const NOOP_HANDLERS = {
  onAudio() {},
  onMessage() {},
  onOpen() {},
  onClose() {},
};

Deno.test("answerOffer rejects SDP that is not a WebRTC offer with audio and a data channel", async () => {
  const base = [
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 0.0.0.0",
    "a=mid:0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + Array(32).fill("AB").join(":"),
    "a=setup:actpass",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=mid:1",
    "a=sctp-port:5000",
  ];
  const cases: [string, RegExp][] = [
    ["", /must start with v=0/],
    ["hello", /must start with v=0/],
    [
      base.filter((l) => !l.startsWith("m=audio")).join("\r\n"),
      /no audio m-line/,
    ],
    [
      base.filter((l) => !l.startsWith("m=application")).join("\r\n"),
      /webrtc-datachannel/,
    ],
    [base.join("\r\n").replace("opus/48000/2", "red/48000/2"), /Opus/],
  ];
  for (const [sdp, message] of cases) {
    await assert.rejects(
      answerOffer(sdp, NOOP_HANDLERS),
      (error: Error) => error instanceof InvalidSdpError && message.test(error.message),
      JSON.stringify(sdp.slice(0, 40)),
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Real WebRTC without a browser: a werift client peer sends Opus RTP with DTX, loss and
// reordering over SRTP on loopback.

async function encodeOpusFrames(path: string): Promise<Uint8Array[]> {
  const { sampleRate, samples } = readWav(await Deno.readFile(path));
  const pcm = resample(samples, sampleRate, 48000);
  const encoder = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  try {
    const frames: Uint8Array[] = [];
    for (let i = 0; i + 960 <= pcm.length; i += 960) {
      const frame = pcm.slice(i, i + 960);
      frames.push(
        new Uint8Array(
          encoder.encode(
            new Uint8Array(frame.buffer) as unknown as Parameters<
              typeof encoder.encode
            >[0],
            960,
          ),
        ),
      );
    }
    return frames;
  } finally {
    encoder.delete();
  }
}

Deno.test({
  name: "answerOffer: werift client audio with DTX, loss and reordering keeps the timeline",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const wav = await makeSpeechWav("The quick brown fox jumps over the lazy dog.", {
      padStartSec: 1.5,
      padEndSec: 1,
    });
    const frames = await encodeOpusFrames(wav.path);
    const vad = new VoiceActivityDetector({
      type: "server_vad",
      threshold: 0.5,
      prefixPaddingMs: 0,
      silenceDurationMs: 500,
    });
    const events: VadEvent[] = [];
    const messages: string[] = [];
    let opened = false;
    let closeReason: string | undefined;
    const client = new RTCPeerConnection({
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceServers: [],
    });
    const track = new MediaStreamTrack({ kind: "audio" });
    client.addTransceiver(track, { direction: "sendonly" });
    const channel = client.createDataChannel("oai-events");
    const clientReceived: string[] = [];
    channel.onMessage.subscribe((data) => clientReceived.push(String(data)));
    let peer: Peer | undefined;
    try {
      await client.setLocalDescription(await client.createOffer());
      peer = await answerOffer(client.localDescription!.sdp, {
        onAudio: (pcm) => events.push(...vad.push(pcm)),
        onMessage: (text) => messages.push(text),
        onOpen: () => {
          opened = true;
        },
        onClose: (reason) => {
          closeReason = reason;
        },
      });
      // werift offers Opus as payload type 96 (Chromium uses 111): the offer's number is kept.
      assert.match(peer.answerSdp, /a=rtpmap:96 opus\/48000/i);
      assert.doesNotMatch(peer.answerSdp, /red\/48000|PCMU/i);
      peer.send("queued before open");
      await client.setRemoteDescription({ type: "answer", sdp: peer.answerSdp });
      await until(() => opened && channel.readyState === "open", 10_000, "open");
      channel.send("from client");
      peer.send("after open");

      // Frame i covers [20 i, 20 i + 20) ms. DTX: only every 20th frame of the leading silence is
      // sent (sequence numbers stay consecutive, timestamps jump). Loss: two speech frames are
      // never sent. Reordering: two frames swap places.
      const silentFrames = Math.floor(wav.speechStartMs / 20) - 5;
      const lost = new Set([silentFrames + 40, silentFrames + 41]);
      const plan: number[] = [];
      for (let i = 0; i < frames.length; i++) {
        if (i < silentFrames && i % 20 !== 0) continue;
        if (!lost.has(i)) plan.push(i);
      }
      const swap = plan.indexOf(silentFrames + 60);
      [plan[swap], plan[swap + 1]] = [plan[swap + 1], plan[swap]];
      const seqOf = new Map<number, number>();
      let seq = 1000;
      for (let i = 0; i < frames.length; i++) {
        if (i < silentFrames && i % 20 !== 0) continue;
        seqOf.set(i, seq++ & 0xffff); // lost frames keep their sequence number
      }
      for (const [n, i] of plan.entries()) {
        track.writeRtp(
          new RtpPacket(
            new RtpHeader({
              payloadType: 111,
              sequenceNumber: seqOf.get(i)!,
              timestamp: 960 * i,
              marker: i === 0,
            }),
            Buffer.from(frames[i]),
          ),
        );
        if (n % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const lastFrameEndMs = frames.length * 20;
      await until(
        () => peer!.stats().decodedMs >= lastFrameEndMs,
        10_000,
        "all audio to be decoded",
      );
      const stats = peer.stats();
      assert.equal(stats.decodedMs, lastFrameEndMs, "gaps filled to the exact timeline");
      assert.equal(stats.audioPackets, plan.length);
      assert.equal(stats.state, "connected");
      assert.equal(events.length, 2, JSON.stringify(events));
      const [started, stopped] = events;
      assert.ok(started.type === "speech_started" && stopped.type === "speech_stopped");
      assert.ok(
        Math.abs(started.audioStartMs - wav.speechStartMs) <= 100,
        `start ${started.audioStartMs} vs ${wav.speechStartMs}`,
      );
      assert.ok(
        Math.abs(stopped.audioEndMs - wav.speechEndMs) <= 100,
        `end ${stopped.audioEndMs} vs ${wav.speechEndMs}`,
      );
      await until(() => messages.length > 0 && clientReceived.length > 1, 5000, "messages");
      assert.deepEqual(messages, ["from client"]);
      assert.deepEqual(clientReceived, ["queued before open", "after open"]);

      await peer.close();
      assert.equal(closeReason, "closed by server");
      assert.equal(peer.stats().state, "closed");
      peer.send("ignored after close");
    } finally {
      await peer?.close();
      await client.close();
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Real WebRTC: headless Chromium (fake mic playing a WAV) → werift peer → Opus decode → VAD.

/**
 * The test page. It creates the `oai-events` channel and an audio transceiver BEFORE the offer
 * (so the offer has both m-lines), POSTs the offer, and answers "ping" with "pong". The
 * microphone is opened only once the connection and channel are up, and then put on the sender:
 * Chromium starts playing the fake-capture file when capture starts and sends nothing while the
 * sender has no track, so the first RTP packet carries the start of the WAV and the server's
 * audio time (ms since the first decoded sample) equals the WAV's time. If the mic were opened
 * before the offer, as an app does, the first ~300 ms (set-up time) of the file would be lost.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>webrtc test</title>
<script>
window.received = [];
window.start = () => Promise.race([
  run(),
  new Promise((_, reject) => setTimeout(() => reject(new Error("set-up timed out")), 20000)),
]);
const run = async () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const dc = pc.createDataChannel("oai-events");
  const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
  const opened = new Promise((resolve) => dc.addEventListener("open", resolve, { once: true }));
  dc.addEventListener("message", (e) => {
    window.received.push(e.data);
    const event = JSON.parse(e.data);
    if (event.type === "ping") dc.send(JSON.stringify({ type: "pong", n: event.n }));
  });
  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch("/offer", {
    method: "POST",
    headers: { "content-type": "application/sdp" },
    body: pc.localDescription.sdp,
  });
  if (!response.ok) throw new Error("offer failed: " + response.status);
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  await opened;
  dc.send(JSON.stringify({ type: "hello", from: "page" }));
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const captureStartedAt = performance.timeOrigin + performance.now();
  await transceiver.sender.replaceTrack(stream.getAudioTracks()[0]);
  window.stream = stream;
  return { captureStartedAt, state: pc.connectionState };
};
window.stop = () => {
  for (const track of window.stream?.getTracks() ?? []) track.stop();
  window.pc?.close();
};
</script>`;

interface CallResult {
  events: VadEvent[];
  messages: string[];
  pageReceived: string[];
  opened: boolean;
  closeReason: string | undefined;
  stats: ReturnType<Peer["stats"]>;
  /** Wall time from capture start (page) to the first decoded audio (server). */
  firstAudioAfterCaptureMs: number;
}

async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs one call with the fake microphone playing `wav` until all of it has been decoded. */
async function call(wav: SpeechWav): Promise<CallResult> {
  const vad = new VoiceActivityDetector({
    type: "server_vad",
    threshold: 0.5,
    prefixPaddingMs: 0,
    silenceDurationMs: 500,
  });
  const events: VadEvent[] = [];
  const messages: string[] = [];
  let opened = false;
  let closeReason: string | undefined;
  let firstAudioAt = 0;
  let peer: Peer | undefined;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/") {
        return new Response(PAGE, { headers: { "content-type": "text/html" } });
      }
      if (req.method === "POST" && url.pathname === "/offer") {
        try {
          peer = await answerOffer(await req.text(), {
            onAudio(pcm) {
              firstAudioAt ||= Date.now();
              events.push(...vad.push(pcm));
            },
            onMessage: (text) => messages.push(text),
            onOpen: () => {
              opened = true;
            },
            onClose: (reason) => {
              closeReason = reason;
            },
          });
        } catch (error) {
          return new Response(String(error), { status: 400 });
        }
        // Sent before the channel opens: must be queued, not lost.
        peer.send(JSON.stringify({ type: "ping", n: 42 }));
        return new Response(peer.answerSdp, {
          headers: { "content-type": "application/sdp" },
        });
      }
      return new Response("not found", { status: 404 });
    },
  );
  const browser = await launchBrowser({ fakeAudioWav: wav.path });
  try {
    await browser.page.goto(`http://127.0.0.1:${server.addr.port}/`);
    const started = await browser.page.evaluate(() =>
      (globalThis as unknown as {
        start(): Promise<{ captureStartedAt: number; state: string }>;
      }).start()
    );
    assert.equal(started.state, "connected");
    // Wait in audio time, so a slow machine only makes the test slower.
    await until(
      () => (peer?.stats().decodedMs ?? 0) >= wav.durationMs + 300,
      wav.durationMs + 20_000,
      "the whole WAV to be decoded",
    );
    await until(() => messages.some((m) => m.includes("pong")), 5000, "pong");
    const pageReceived = await browser.page.evaluate(() =>
      (globalThis as unknown as { received: string[] }).received
    );
    const stats = peer!.stats();
    // The browser hangs up; the server peer must notice.
    await browser.page.evaluate(() => (globalThis as unknown as { stop(): void }).stop());
    await until(() => closeReason !== undefined, 15_000, "the peer to close");
    return {
      events,
      messages,
      pageReceived,
      opened,
      closeReason,
      stats,
      firstAudioAfterCaptureMs: firstAudioAt - started.captureStartedAt,
    };
  } finally {
    await peer?.close();
    await browser.close();
    await server.shutdown();
  }
}

function assertSignalling(result: CallResult) {
  assert.ok(result.opened, "oai-events opened on the server");
  assert.deepEqual(JSON.parse(result.messages[0]), {
    type: "hello",
    from: "page",
  });
  assert.ok(
    result.messages.some((m) => m === JSON.stringify({ type: "pong", n: 42 })),
  );
  assert.deepEqual(result.pageReceived, [
    JSON.stringify({ type: "ping", n: 42 }),
  ]);
  assert.ok(result.closeReason, "onClose called when the browser hung up");
}

Deno.test({
  name: "WebRTC: Chromium's mic audio reaches the VAD with the WAV's speech region (±100 ms)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const wav = await makeSpeechWav(
      "Hello world, this is a test of the transcription emulator.",
      { padStartSec: 1.5, padEndSec: 1.5 },
    );
    const result = await call(wav);
    console.log(
      `  speech: packets=${result.stats.audioPackets} decoded=${
        result.stats.decodedMs.toFixed(0)
      } ms, events=${JSON.stringify(result.events)}, wav=${wav.speechStartMs}-${
        wav.speechEndMs.toFixed(0)
      }, first audio ${
        result.firstAudioAfterCaptureMs.toFixed(0)
      } ms after capture start, close="${result.closeReason}"`,
    );
    assertSignalling(result);
    // Chromium sends ~50 packets/s; fewer during silence only with DTX.
    assert.ok(
      result.stats.audioPackets >= 50,
      `${result.stats.audioPackets} packets`,
    );
    assert.equal(result.events.length, 2, JSON.stringify(result.events));
    const [started, stopped] = result.events;
    assert.equal(started.type, "speech_started");
    assert.equal(stopped.type, "speech_stopped");
    const startError = started.audioStartMs - wav.speechStartMs;
    const endError = stopped.audioEndMs - wav.speechEndMs;
    assert.ok(Math.abs(startError) <= 100, `start error ${startError} ms`);
    assert.ok(Math.abs(endError) <= 100, `end error ${endError.toFixed(1)} ms`);
  },
});

Deno.test({
  name: "WebRTC: a silent microphone produces audio but no speech",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const wav = await makeSilenceWav(3);
    const result = await call(wav);
    console.log(
      `  silence: packets=${result.stats.audioPackets} decoded=${
        result.stats.decodedMs.toFixed(0)
      } ms, events=${JSON.stringify(result.events)}`,
    );
    assertSignalling(result);
    assert.ok(result.stats.audioPackets > 0);
    assert.deepEqual(result.events, []);
  },
});

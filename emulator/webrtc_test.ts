import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import OpusScript from "npm:opusscript@0.1.1";
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from "npm:werift@0.24.4";
import { readWav, resample } from "./audio.ts";
import { until } from "./testkit.ts";
import { answerOffer, createOpusDecoder, InvalidSdpError, type Peer } from "./webrtc.ts";
import { type VadEvent, VoiceActivityDetector } from "./vad.ts";
import { makeSpeechWav } from "../testing/speech.ts";

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

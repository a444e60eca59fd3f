/**
 * A WebRTC client peer for the conformance suite (werift, no browser): it offers audio and the
 * `oai-events` data channel like the browser does, records the server events on the channel and
 * the audio the server sends back (translation calls), and sends speech as Opus RTP in real time,
 * so the same case runs against the emulator on loopback and against OpenAI over the internet.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import OpusScript from "npm:opusscript@0.1.1";
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from "npm:werift@0.24.4";
import { resample } from "../audio.ts";
import type { Ev } from "../testkit.ts";

/** A client peer with its offer. */
export interface ClientPeer {
  /** The SDP offer to post. */
  offer: string;
  /** Applies the answer and waits until the data channel is open. */
  connect(answer: string, timeoutMs: number): Promise<void>;
  /** Server events received on `oai-events`, in order. */
  events: Ev[];
  /** Payloads of the RTP packets received on the audio track (the server's speech), in order. */
  audioPayloads: Uint8Array[];
  /** The `oai-events` channel's `readyState`. */
  channelState(): string;
  /** The first event (received or future) of `type` that matches `pred`. */
  waitFor(type: string, pred: (e: Ev) => boolean, timeoutMs: number): Promise<Ev>;
  /** Sends one client event on the data channel. */
  send(event: Ev): void;
  /** Sends 24 kHz mono PCM16 as 20 ms Opus frames at real-time pace. */
  sendAudio(pcm24k: Int16Array): Promise<void>;
  close(): Promise<void>;
}

/** Creates the peer and its offer; `loopback` adds 127.0.0.1 as a host candidate. */
export async function createClientPeer(options: { loopback: boolean }): Promise<ClientPeer> {
  const pc = new RTCPeerConnection(
    options.loopback ? { iceAdditionalHostAddresses: ["127.0.0.1"] } as never : {},
  );
  const track = new MediaStreamTrack({ kind: "audio" });
  pc.addTransceiver(track, { direction: "sendrecv" });
  const channel = pc.createDataChannel("oai-events");
  const events: Ev[] = [];
  const audioPayloads: Uint8Array[] = [];
  pc.onTrack.subscribe((t) =>
    t.onReceiveRtp.subscribe((rtp) => audioPayloads.push(new Uint8Array(rtp.payload)))
  );
  const waiters = new Set<{ match: (e: Ev) => boolean; resolve: (e: Ev) => void }>();
  channel.onMessage.subscribe((data) => {
    let event: Ev;
    try {
      event = JSON.parse(String(data));
    } catch {
      return;
    }
    events.push(event);
    for (const w of [...waiters]) {
      if (w.match(event)) {
        waiters.delete(w);
        w.resolve(event);
      }
    }
  });
  await pc.setLocalDescription(await pc.createOffer());
  let payloadType = 111;
  return {
    offer: pc.localDescription!.sdp,
    events,
    audioPayloads,
    channelState: () => channel.readyState,
    async connect(answer, timeoutMs) {
      payloadType = Number(/a=rtpmap:(\d+) opus\/48000/i.exec(answer)?.[1] ?? 111);
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      const deadline = Date.now() + timeoutMs;
      while (channel.readyState !== "open") {
        if (Date.now() > deadline) throw new Error("The data channel did not open");
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    waitFor(type, pred, timeoutMs) {
      const match = (e: Ev) => e.type === type && pred(e);
      const have = events.find(match);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (e: Ev) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `Timed out waiting for ${type} on the data channel; got ${
                events.map((e) => e.type).join(", ")
              }`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
      });
    },
    send(event) {
      channel.send(JSON.stringify(event));
    },
    async sendAudio(pcm24k) {
      const pcm = resample(pcm24k, 24000, 48000);
      const encoder = new OpusScript(48000, 1, OpusScript.Application.VOIP);
      try {
        const start = performance.now();
        let seq = Math.floor(Math.random() * 30000);
        for (let frame = 0; (frame + 1) * 960 <= pcm.length; frame++) {
          const samples = pcm.slice(frame * 960, (frame + 1) * 960);
          const packet = encoder.encode(
            new Uint8Array(samples.buffer) as unknown as Parameters<typeof encoder.encode>[0],
            960,
          );
          track.writeRtp(
            new RtpPacket(
              new RtpHeader({
                payloadType,
                sequenceNumber: seq++ & 0xffff,
                timestamp: 960 * frame,
                marker: frame === 0,
              }),
              Buffer.from(packet),
            ),
          );
          // Real time: a receiver's jitter buffer expects 20 ms per frame.
          const due = start + (frame + 1) * 20 - performance.now();
          if (due > 0) await new Promise((r) => setTimeout(r, due));
        }
      } finally {
        encoder.delete();
      }
    },
    close: () => pc.close(),
  };
}

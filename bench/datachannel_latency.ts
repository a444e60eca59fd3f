/**
 * Data-channel delivery latency of the emulator's WebRTC peer (`emulator/webrtc.ts`) to headless
 * Chromium: the server sends a message when `oai-events` opens (like `session.created`), a second
 * one `gapMs` later (like `session.updated`), then a few more, and the page stamps each arrival.
 * Both clocks are the same machine's wall clock. Before the DTLS record-number workaround
 * (`emulator/dtls_guard.ts`) the second message took ~1 s (an SCTP retransmission); now every
 * message should take a few ms.
 *
 * ```sh
 * npx -y deno@2.7.5 run -A bench/datachannel_latency.ts
 * ```
 *
 * @module
 */
import { answerOffer, type Peer } from "../emulator/webrtc.ts";
import { launchBrowser } from "../testing/browser.ts";
import { makeSilenceWav } from "../testing/speech.ts";
import type { Benchmark } from "./runner.ts";
import { medianBelow } from "./stats.ts";

/** Options for {@linkcode measureDataChannelLatency}. */
export interface DataChannelLatencyOptions {
  /** Calls to make (default 3). */
  runs?: number;
  /** Delay between the messages (default 260 ms, the emulator's session.updated delay). */
  gapMs?: number;
  /** Messages per call (default 5). */
  messages?: number;
}

/** Result of {@linkcode measureDataChannelLatency}. */
export interface DataChannelLatency {
  /** Per call: send → arrival of each message, ms. */
  delaysMs: number[][];
  /** Per call: SCTP DATA retransmissions of the server peer. */
  retransmissions: number[];
}

const PAGE = `<!doctype html><script>
window.arrivals = [];
window.start = async () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const dc = pc.createDataChannel("oai-events");
  pc.addTransceiver("audio", { direction: "sendrecv" });
  dc.onmessage = (e) => window.arrivals.push([JSON.parse(e.data).n, performance.timeOrigin + performance.now()]);
  await pc.setLocalDescription(await pc.createOffer());
  const r = await fetch("/offer", { method: "POST", body: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: "answer", sdp: await r.text() });
};
</script>`;

/**
 * Measures data-channel delivery delays from the emulator's peer to Chromium.
 *
 * @param options Runs, gap and message count.
 * @returns Delays per call and message, and SCTP retransmission counts.
 */
export async function measureDataChannelLatency(
  options: DataChannelLatencyOptions = {},
): Promise<DataChannelLatency> {
  const runs = options.runs ?? 3;
  const gapMs = options.gapMs ?? 260;
  const count = options.messages ?? 5;
  const result: DataChannelLatency = { delaysMs: [], retransmissions: [] };
  const wav = await makeSilenceWav(1);
  const browser = await launchBrowser({ fakeAudioWav: wav.path });
  try {
    for (let run = 0; run < runs; run++) {
      const sentAt: number[] = [];
      const timers: ReturnType<typeof setTimeout>[] = [];
      let peer: Peer | undefined;
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        if (req.method === "GET") {
          return new Response(PAGE, { headers: { "content-type": "text/html" } });
        }
        peer = await answerOffer(await req.text(), {
          onAudio() {},
          onMessage() {},
          onClose() {},
          onOpen() {
            for (let n = 0; n < count; n++) {
              timers.push(setTimeout(() => {
                sentAt[n] = Date.now();
                peer?.send(JSON.stringify({ n }));
              }, n * gapMs));
            }
          },
        });
        return new Response(peer.answerSdp);
      });
      try {
        const { page } = browser;
        await page.goto(`http://127.0.0.1:${server.addr.port}/`);
        await page.evaluate(() => (globalThis as unknown as { start(): Promise<void> }).start());
        const deadline = Date.now() + count * gapMs + 10_000;
        let arrivals: [number, number][] = [];
        while (arrivals.length < count && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          arrivals = await page.evaluate(() =>
            (globalThis as unknown as { arrivals: [number, number][] }).arrivals
          );
        }
        result.delaysMs.push(arrivals.map(([n, at]) => Math.round((at - sentAt[n]) * 10) / 10));
        result.retransmissions.push(peer?.stats().sctpRetransmissions ?? -1);
        await page.evaluate(() => (globalThis as unknown as { pc: RTCPeerConnection }).pc.close());
      } finally {
        for (const timer of timers) clearTimeout(timer);
        await peer?.close();
        await server.shutdown();
      }
    }
  } finally {
    await browser.close();
  }
  return result;
}

if (import.meta.main) {
  const result = await measureDataChannelLatency();
  for (const [i, delays] of result.delaysMs.entries()) {
    console.log(
      `call ${i + 1}: delays ${delays.join(", ")} ms; SCTP retransmissions ${
        result.retransmissions[i]
      }`,
    );
  }
}

/** Benchmark row: data-channel delivery delay from the emulator's peer to Chromium. */
export const datachannelLatency: Benchmark = {
  name: "datachannel",
  description:
    "emulator → Chromium data-channel delivery delay per message (werift DTLS fix check)",
  async run(ctx) {
    const r = await measureDataChannelLatency({ runs: ctx.quick ? 1 : 3 });
    return [
      {
        name: "datachannel.delivery_ms",
        unit: "ms",
        samples: r.delaysMs.flat(),
        goal: medianBelow(20, "ms"),
        note: `SCTP retransmissions per call: ${r.retransmissions.join(", ")}`,
      },
    ];
  },
};

/**
 * The WebRTC peer (`webrtc.ts`) against real headless Chromium: mic audio through Opus and the VAD,
 * data-channel delivery, and how a server-side close reaches the browser.
 *
 * @module
 */
import assert from "node:assert/strict";
import { answerOffer, type Peer, type PeerHandlers } from "./webrtc.ts";
import { type VadEvent, VoiceActivityDetector } from "./vad.ts";
import { until } from "./testkit.ts";
import { launchBrowser, type LaunchedBrowser } from "../testing/browser.ts";
import { makeSilenceWav, makeSpeechWav, type SpeechWav } from "../testing/speech.ts";

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
 * `start({ hello: false, mic: false })` sends nothing and opens no microphone.
 *
 * `window.log` records, with wall-clock times, every message, the channel's `close` (with the
 * connection state at that moment) and every `connectionState` change.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>webrtc test</title>
<script>
window.received = [];
window.log = [];
const now = () => performance.timeOrigin + performance.now();
window.start = (options = {}) => Promise.race([
  run(options),
  new Promise((_, reject) => setTimeout(() => reject(new Error("set-up timed out")), 20000)),
]);
const run = async ({ hello = true, mic = true }) => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const dc = pc.createDataChannel("oai-events");
  const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
  const opened = new Promise((resolve) => dc.addEventListener("open", resolve, { once: true }));
  dc.addEventListener("message", (e) => {
    window.received.push(e.data);
    window.log.push({ what: "message", data: e.data, at: now() });
    const event = JSON.parse(e.data);
    if (event.type === "ping") dc.send(JSON.stringify({ type: "pong", n: event.n }));
  });
  dc.addEventListener("close", () => {
    window.log.push({ what: "channel-close", data: pc.connectionState, at: now() });
  });
  pc.addEventListener("connectionstatechange", () => {
    window.log.push({ what: "connection", data: pc.connectionState, at: now() });
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
  if (hello) dc.send(JSON.stringify({ type: "hello", from: "page" }));
  if (!mic) return { captureStartedAt: 0, state: pc.connectionState };
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const captureStartedAt = now();
  await transceiver.sender.replaceTrack(stream.getAudioTracks()[0]);
  window.stream = stream;
  return { captureStartedAt, state: pc.connectionState };
};
window.stop = () => {
  for (const track of window.stream?.getTracks() ?? []) track.stop();
  window.pc?.close();
};
</script>`;

/** One entry of the page's `window.log`. */
interface PageLogEntry {
  what: "message" | "channel-close" | "connection";
  data: string;
  at: number;
}

/** A served test page and the peer that answered its offer. */
interface PageCall {
  browser: LaunchedBrowser;
  /** The answering peer, once the page has posted its offer. */
  peer(): Peer | undefined;
  /** Loads the page and runs its `start(options)`. */
  start(options?: { hello?: boolean; mic?: boolean }): Promise<
    { captureStartedAt: number; state: string }
  >;
  log(): Promise<PageLogEntry[]>;
  close(): Promise<void>;
}

/**
 * Serves {@linkcode PAGE} on loopback, answers its offer with {@linkcode answerOffer} and launches
 * Chromium with `wav` as the fake microphone.
 */
async function openPageCall(
  wav: SpeechWav,
  handlers: PeerHandlers,
  afterAnswer: (peer: Peer) => void = () => {},
): Promise<PageCall> {
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
          peer = await answerOffer(await req.text(), handlers);
        } catch (error) {
          return new Response(String(error), { status: 400 });
        }
        afterAnswer(peer);
        return new Response(peer.answerSdp, {
          headers: { "content-type": "application/sdp" },
        });
      }
      return new Response("not found", { status: 404 });
    },
  );
  let browser: LaunchedBrowser;
  try {
    browser = await launchBrowser({ fakeAudioWav: wav.path });
  } catch (error) {
    await server.shutdown();
    throw error;
  }
  const page = browser.page;
  return {
    browser,
    peer: () => peer,
    async start(options = {}) {
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      return await page.evaluate(
        (o) =>
          (globalThis as unknown as {
            start(o: unknown): Promise<{ captureStartedAt: number; state: string }>;
          }).start(o),
        options,
      );
    },
    log: () => page.evaluate(() => (globalThis as unknown as { log: PageLogEntry[] }).log),
    async close() {
      await peer?.close();
      await browser.close();
      await server.shutdown();
    },
  };
}

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
  const pageCall = await openPageCall(wav, {
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
  }, (peer) => {
    // Sent before the channel opens: must be queued, not lost.
    peer.send(JSON.stringify({ type: "ping", n: 42 }));
  });
  try {
    const started = await pageCall.start();
    assert.equal(started.state, "connected");
    const peer = pageCall.peer()!;
    // Wait in audio time, so a slow machine only makes the test slower.
    await until(
      () => peer.stats().decodedMs >= wav.durationMs + 300,
      wav.durationMs + 20_000,
      "the whole WAV to be decoded",
    );
    await until(() => messages.some((m) => m.includes("pong")), 5000, "pong");
    const pageReceived = await pageCall.browser.page.evaluate(() =>
      (globalThis as unknown as { received: string[] }).received
    );
    const stats = peer.stats();
    // The browser hangs up; the server peer must notice.
    await pageCall.browser.page.evaluate(() => (globalThis as unknown as { stop(): void }).stop());
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
    await pageCall.close();
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

Deno.test({
  name: "WebRTC: the second data-channel message after open is not dropped and retransmitted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The app's case: `session.created` on open, `session.updated` ~260 ms later. With werift's
    // epoch-1 record numbering (see dtls_guard.ts) Chromium dropped the record carrying the
    // second message, which arrived only after SCTP's 1 s retransmission timeout.
    const wav = await makeSilenceWav(1);
    const sentAt: number[] = [];
    let peer: Peer | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const send = (n: number) => {
      sentAt[n] = Date.now();
      peer!.send(JSON.stringify({ type: "test.message", n }));
    };
    const pageCall = await openPageCall(wav, {
      onAudio() {},
      onMessage() {},
      onOpen() {
        send(0);
        timer = setTimeout(() => send(1), 260);
      },
      onClose() {},
    }, (p) => {
      peer = p;
    });
    try {
      // Nothing from the page: the server's records are then numbered exactly as in the app.
      await pageCall.start({ hello: false, mic: false });
      let log: PageLogEntry[] = [];
      const deadline = Date.now() + 10_000;
      while (log.filter((e) => e.what === "message").length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        log = await pageCall.log();
      }
      const messages = log.filter((e) => e.what === "message");
      assert.deepEqual(
        messages.map((e) => JSON.parse(e.data).n),
        [0, 1],
        "both messages arrive, in order",
      );
      const delays = messages.map((e, i) => (e.at - sentAt[i]).toFixed(1));
      console.log(`  data-channel delivery delays: ${delays.join(", ")} ms`);
      // On loopback nothing is lost: a retransmission means the browser dropped a record.
      assert.equal(peer!.stats().sctpRetransmissions, 0, `delays ${delays.join(", ")} ms`);
    } finally {
      clearTimeout(timer);
      await pageCall.close();
    }
  },
});

Deno.test({
  name: "WebRTC: a server-side close closes the browser's data channel at once, not via ICE",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const wav = await makeSilenceWav(1);
    let closeReason: string | undefined;
    const pageCall = await openPageCall(wav, {
      onAudio() {},
      onMessage() {},
      onOpen() {},
      onClose(reason) {
        closeReason = reason;
      },
    });
    try {
      const started = await pageCall.start({ hello: false, mic: false });
      assert.equal(started.state, "connected");
      const closedAt = Date.now();
      await pageCall.peer()!.close();
      assert.equal(closeReason, "closed by server");
      let log: PageLogEntry[] = [];
      const deadline = Date.now() + 15_000;
      while (!log.some((e) => e.what === "channel-close") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        log = await pageCall.log();
      }
      const channelClose = log.find((e) => e.what === "channel-close");
      assert.ok(channelClose, `no channel close: ${JSON.stringify(log)}`);
      console.log(
        `  channel close seen ${(channelClose.at - closedAt).toFixed(0)} ms after the close`,
      );
      // Closed by SCTP (stream reset / ABORT), before ICE consent could notice anything.
      assert.equal(channelClose.data, "connected", JSON.stringify(log));
    } finally {
      await pageCall.close();
    }
  },
});

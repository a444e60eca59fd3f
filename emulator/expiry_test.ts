/**
 * Session max duration over a CONNECTED WebRTC call (protocol reference §8, §9.7):
 * at expiry the data channel gets `error` `session_expired`, every sideband is
 * closed with 1001 and that reason, and the emulator closes its WebRTC peer (the
 * client sees its `oai-events` channel and connection close).
 *
 * The first tests use a werift client peer (no browser); werift does not notice a
 * remote close, so the last test checks with Chromium that the error arrives
 * before the browser loses the peer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../testing/browser.ts";
import { makeSilenceWav } from "../testing/speech.ts";
import { createRawCall, type Ev, EventSocket, post, startTestEmulator, wsUrl } from "./testkit.ts";

const T = {
  // werift keeps SRTP cipher handles and ICE timers briefly after its peers close.
  sanitizeResources: false,
  sanitizeOps: false,
};

async function until(cond: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A connected werift client: audio transceiver + `oai-events`, like the browser. */
async function connectClient(emu: { baseUrl: string; apiKey: string }) {
  const { RTCPeerConnection } = await import("npm:werift@0.24.4");
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceServers: [],
  });
  pc.addTransceiver("audio", { direction: "sendrecv" });
  const dc = pc.createDataChannel("oai-events");
  const events: Ev[] = [];
  const states: string[] = [];
  dc.onMessage.subscribe((data) =>
    events.push(
      JSON.parse(
        typeof data === "string" ? data : new TextDecoder().decode(data),
      ),
    )
  );
  dc.stateChanged.subscribe((s) => states.push(s));
  const connStates: string[] = [];
  pc.connectionStateChange.subscribe((s) => connStates.push(s));
  await pc.setLocalDescription(await pc.createOffer());
  await until(
    () => pc.iceGatheringState === "complete",
    10_000,
    "ICE gathering",
  );
  const { res, answer, callId } = await createRawCall(
    emu as Parameters<typeof createRawCall>[0],
    pc.localDescription!.sdp,
  );
  assert.equal(res.status, 201, answer);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  await until(() => dc.readyState === "open", 20_000, "oai-events to open");
  await until(() => events.length > 0, 5000, "session.created");
  return { pc, dc, events, states, connStates, callId: callId! };
}

for (const via of ["timer", "fault"] as const) {
  Deno.test(
    `§8 expiry (${via}) on a connected WebRTC call: data channel error, sidebands 1001, peer closed`,
    T,
    async () => {
      const emu = await startTestEmulator(
        via === "timer" ? { sessionMaxSeconds: 3 } : {},
      );
      let client: Awaited<ReturnType<typeof connectClient>> | null = null;
      const sidebands: EventSocket[] = [];
      try {
        client = await connectClient(emu);
        assert.equal(client.events[0].type, "session.created");
        for (let i = 0; i < 2; i++) {
          const sb = new EventSocket(wsUrl(emu, `call_id=${client.callId}`), {
            headers: { Authorization: `Bearer ${emu.apiKey}` },
          });
          await sb.opened;
          sidebands.push(sb);
        }
        if (via === "fault") {
          const r = await post(emu, "/_emulator/faults", {
            expireSessions: client.callId,
          });
          assert.equal(r.json!.expiredSessions, 1);
        }
        for (const sb of sidebands) {
          const close = await sb.closed;
          assert.equal(close.code, 1001);
          assert.equal(close.reason, "invalid_request_error.session_expired");
          const err = sb.events.find((e) => e.type === "error")!;
          assert.equal(err.error.code, "session_expired");
        }
        const c = client;
        await until(
          () => c.events.some((e) => e.type === "error"),
          5000,
          "the error on the data channel",
        );
        const err = c.events.find((e) => e.type === "error")!;
        assert.equal(err.error.code, "session_expired");
        assert.equal(err.error.type, "invalid_request_error");
        assert.match(err.error.message, /maximum duration of/);
        const call = emu.control.calls().find((x) => x.id === c.callId)!;
        assert.equal(call.state, "ended");
        assert.equal(call.endedReason, "expired");
        // The emulator's peer is closed (what the browser sees is asserted by the
        // Chromium test below; werift as a client does not notice a remote close).
        assert.equal(call.peer, null);
      } finally {
        for (const sb of sidebands) await sb.close();
        await client?.pc.close();
        await emu.close();
      }
    },
  );
}

Deno.test(
  "§8 expiry: Chromium gets session_expired on oai-events, then loses the peer",
  T,
  async () => {
    const emu = await startTestEmulator();
    // A silent microphone (the default fake one beeps, which the VAD hears).
    const quiet = await makeSilenceWav(30);
    const browser = await launchBrowser({ fakeAudioWav: quiet.path });
    try {
      const secret = await post(emu, "/v1/realtime/client_secrets", {
        session: { type: "transcription" },
      });
      assert.equal(secret.status, 200, secret.text);
      const port = new URL(emu.baseUrl).port;
      await browser.page.goto(`http://127.0.0.1:${port}/_emulator/health`);
      const callId: string = await browser.page.evaluate(async (ek) => {
        const w = globalThis as unknown as Record<string, unknown>;
        const log: string[] = [];
        w.log = log;
        const pc = new RTCPeerConnection();
        const stream = await navigator.mediaDevices.getUserMedia({
          audio: true,
        });
        pc.addTrack(stream.getTracks()[0], stream);
        const dc = pc.createDataChannel("oai-events");
        dc.onmessage = (e) => log.push(JSON.parse(e.data).type);
        dc.onclose = () => log.push("dc:close");
        pc.onconnectionstatechange = () => log.push(`pc:${pc.connectionState}`);
        const opened = new Promise((r) => (dc.onopen = r));
        await pc.setLocalDescription(await pc.createOffer());
        const res = await fetch("/v1/realtime/calls", {
          method: "POST",
          headers: {
            Authorization: `Bearer ${ek}`,
            "Content-Type": "application/sdp",
          },
          body: pc.localDescription!.sdp,
        });
        const answer = await res.text();
        if (res.status !== 201) throw new Error(answer);
        await pc.setRemoteDescription({ type: "answer", sdp: answer });
        await opened;
        return res.headers.get("Location")!.split("/").pop()!;
      }, secret.json!.value as string);
      const log = () =>
        browser.page.evaluate(() => (globalThis as unknown as { log: string[] }).log);
      await browser.page.waitForFunction(
        () =>
          (globalThis as unknown as { log: string[] }).log.includes(
            "session.created",
          ),
        undefined,
        { timeout: 30_000 },
      ).catch(async (e) => {
        throw new Error(`${e}; page log: ${JSON.stringify(await log())}`);
      });
      const r = await post(emu, "/_emulator/faults", {
        expireSessions: callId,
      });
      assert.equal(r.json!.expiredSessions, 1);
      // The error arrives; then the browser loses the peer. Chromium notices the
      // emulator's werift peer closing through ICE consent (disconnected, then
      // failed) rather than an SCTP/DTLS close, so no channel "close" is required.
      await browser.page.waitForFunction(
        () => {
          const l = (globalThis as unknown as { log: string[] }).log;
          return l.includes("dc:close") ||
            l.some((x) => /^pc:(disconnected|failed|closed)$/.test(x));
        },
        undefined,
        { timeout: 30_000 },
      ).catch(async (e) => {
        throw new Error(`${e}; page log: ${JSON.stringify(await log())}`);
      });
      const seen = await log();
      const lost = seen.findIndex((x) =>
        x === "dc:close" || /^pc:(disconnected|failed|closed)$/.test(x)
      );
      assert.ok(seen.includes("error"), JSON.stringify(seen));
      assert.ok(seen.indexOf("error") < lost, JSON.stringify(seen));
      const call = emu.control.calls().find((c) => c.id === callId)!;
      assert.equal(call.state, "ended");
      assert.equal(call.endedReason, "expired");
    } finally {
      await browser.close();
      await emu.close();
    }
  },
);

/**
 * Session max duration over a CONNECTED WebRTC call (protocol reference §8, §9.7):
 * at expiry the data channel gets `error` `session_expired`, every sideband is
 * closed with 1001 and that reason, and the emulator closes its WebRTC peer (the
 * client sees its `oai-events` channel and connection close).
 *
 * The client is a werift peer (no browser needed); Chromium flows are covered by
 * `emulator_webrtc_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  createRawCall,
  type Ev,
  EventSocket,
  post,
  startTestEmulator,
  wsUrl,
} from "./testkit.ts";

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
        // The emulator closes the peer: the client's channel closes.
        await until(
          () => c.states.includes("closed"),
          15_000,
          `the data channel to close (states ${c.states})`,
        );
        const call = emu.control.calls().find((x) => x.id === c.callId)!;
        assert.equal(call.state, "ended");
        assert.equal(call.endedReason, "expired");
        assert.equal(call.peer, null);
      } finally {
        for (const sb of sidebands) await sb.close();
        await client?.pc.close();
        await emu.close();
      }
    },
  );
}

/**
 * The emulator's fault switches and the options for behaviour the protocol reference is unsure
 * of, over real HTTP and WebSockets: REST failures and latency, the all-empty 400, a hidden
 * Location, sideband refusals and drops, expiry, `sidebandSessionCreated`,
 * `sidebandRefusesUpdates` and `webrtcRefusedModels`. The protocol cases themselves run in the
 * conformance suite (emulator/conformance/).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertEnvelope,
  createRawCall,
  EventSocket,
  makeOffer,
  post,
  startTestEmulator,
  transcriptionSocket,
  wsUrl,
} from "./testkit.ts";

/** werift (the client offer peer) leaves timers and crypto handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "emptyBadSdpError answers bad SDP with the all-empty envelope; exposeLocation:false hides Location",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const empty = await startTestEmulator({ emptyBadSdpError: true });
    const offer = await makeOffer();
    try {
      const bad2 = await createRawCall(empty, "v=0\r\n");
      assert.equal(bad2.res.status, 400);
      assert.deepEqual(JSON.parse(bad2.answer), {
        error: { message: "", type: "", code: "", param: "" },
      });
      await post(emu, "/_emulator/faults", { exposeLocation: false });
      const hidden = await createRawCall(emu, offer.sdp);
      assert.equal(hidden.res.status, 201);
      assert.equal(
        hidden.res.headers.get("access-control-expose-headers"),
        null,
      );
      assert.ok(hidden.res.headers.get("location"));
    } finally {
      await offer.close();
      await emu.close();
      await empty.close();
    }
  },
);

Deno.test(
  "§2.6 call control on non-SIP / unknown calls; REST fault injection",
  TW, // runs after werift tests whose timers finish during it
  async () => {
    const emu = await startTestEmulator();
    try {
      for (const action of ["hangup", "accept", "reject", "refer"]) {
        const r = await post(emu, `/v1/realtime/calls/rtc_nope/${action}`, {});
        assert.equal(r.status, 404, action);
        assertEnvelope(r.json, "call_not_found", null);
      }
      const f = await post(emu, "/_emulator/faults", {
        rest: [
          {
            endpoint: "client_secrets",
            count: 2,
            status: 400,
            body: "openai_empty_400",
          },
          {
            endpoint: "calls",
            count: 1,
            status: 429,
            body: {
              error: {
                message: "Rate limited",
                type: "rate_limit",
                param: null,
                code: "rate_limit_exceeded",
              },
            },
          },
        ],
      });
      assert.equal(f.status, 200);
      for (let i = 0; i < 2; i++) {
        const r = await post(emu, "/v1/realtime/client_secrets", {});
        assert.equal(r.status, 400);
        assert.deepEqual(r.json, {
          error: { message: "", type: "", code: "", param: "" },
        });
      }
      assert.equal(
        (await post(emu, "/v1/realtime/client_secrets", {})).status,
        200,
      );
      const rl = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "POST",
        body: "x",
      });
      assert.equal(rl.status, 429);
      assert.equal((await rl.json()).error.code, "rate_limit_exceeded");
      await post(emu, "/_emulator/faults", { latencyMs: 150 });
      const t0 = performance.now();
      await post(emu, "/v1/realtime/client_secrets", {});
      assert.ok(performance.now() - t0 >= 140);
      const del = await fetch(`${emu.baseUrl}/_emulator/faults`, {
        method: "DELETE",
      });
      assert.equal((await del.json()).latencyMs, 0);
    } finally {
      await emu.close();
    }
  },
);

Deno.test(
  "§4.4 options and faults: sidebandSessionCreated, refused attach, dropped sidebands",
  TW,
  async () => {
    const emu = await startTestEmulator({ sidebandSessionCreated: true });
    const offer = await makeOffer();
    const auth = { headers: { Authorization: `Bearer ${emu.apiKey}` } };
    try {
      const { callId } = await createRawCall(emu, offer.sdp);
      const a = new EventSocket(wsUrl(emu, `call_id=${callId}`), auth);
      const created = await a.waitFor("session.created");
      assert.equal(created.session.type, "realtime");
      await post(emu, "/_emulator/faults", { refuseSidebandAttaches: 1 });
      const refused = new EventSocket(wsUrl(emu, `call_id=${callId}`), auth);
      await assert.rejects(refused.opened);
      const drop = await post(emu, "/_emulator/faults", {
        dropSidebands: true,
      });
      assert.equal(drop.json!.droppedSidebands, 1);
      assert.equal((await a.closed).code, 1011);
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§8 expiry: session_expired then close 1001 on every connection",
  TW,
  async () => {
    const emu = await startTestEmulator({ sessionMaxSeconds: 1 });
    try {
      const s = await transcriptionSocket(emu);
      const close = await s.closed;
      assert.equal(close.code, 1001);
      assert.equal(close.reason, "invalid_request_error.session_expired");
      const err = s.events.find((e) => e.type === "error")!;
      assert.equal(err.error.code, "session_expired");
      assert.match(err.error.message, /maximum duration of 1 seconds/);
    } finally {
      await emu.close();
    }
    const emu2 = await startTestEmulator();
    const offer = await makeOffer();
    try {
      const { callId } = await createRawCall(emu2, offer.sdp);
      const sb = new EventSocket(wsUrl(emu2, `call_id=${callId}`), {
        headers: { Authorization: `Bearer ${emu2.apiKey}` },
      });
      await sb.opened;
      const r = await post(emu2, "/_emulator/faults", {
        expireSessions: callId,
      });
      assert.equal(r.json!.expiredSessions, 1);
      assert.equal((await sb.closed).code, 1001);
      assert.equal(
        emu2.control.calls().find((c) => c.id === callId)!.state,
        "ended",
      );
      assert.equal(
        (await post(emu2, `/v1/realtime/calls/${callId}/hangup`)).status,
        404,
      );
    } finally {
      await offer.close();
      await emu2.close();
    }
  },
);

Deno.test(
  "sidebandRefusesUpdates: a sideband's session.update gets an error and changes nothing",
  TW,
  async () => {
    const emu = await startTestEmulator({ sidebandRefusesUpdates: true });
    const offer = await makeOffer();
    try {
      const { callId } = await createRawCall(emu, offer.sdp);
      const sb = new EventSocket(wsUrl(emu, `call_id=${callId}`), {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      await sb.opened;
      sb.send({
        type: "session.update",
        event_id: "ev_sb",
        session: { type: "realtime", instructions: "x" },
      });
      const e = await sb.waitFor("error");
      assert.deepEqual(
        [e.error.type, e.error.code, e.error.param, e.error.event_id],
        ["invalid_request_error", "invalid_value", "type", "ev_sb"],
      );
      assert.ok(!sb.types().includes("session.updated"));
      // deno-lint-ignore no-explicit-any
      const session: any = emu.control.calls().find((c) => c.id === callId)!.session;
      assert.equal(session.instructions, "");
      // Other connections may still update (here: an ?intent= socket of its own session).
      const s = await transcriptionSocket(emu, { type: "transcription", include: null });
      assert.ok(s.types().includes("session.updated"));
      await s.close();
      await sb.close();
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

Deno.test(
  "webrtcRefusedModels: a WebRTC call for such a model gets a 400; others connect",
  TW,
  async () => {
    const emu = await startTestEmulator({ webrtcRefusedModels: ["gpt-transcribe"] });
    const offer = await makeOffer();
    try {
      const mint = async (model: string) =>
        (await post(emu, "/v1/realtime/client_secrets", {
          session: { type: "transcription", audio: { input: { transcription: { model } } } },
        })).json!.value;
      const refused = await createRawCall(emu, offer.sdp, await mint("gpt-transcribe"));
      assert.equal(refused.res.status, 400);
      const body = JSON.parse(refused.answer);
      assert.equal(body.error.code, "invalid_value");
      assert.equal(body.error.param, "session.audio.input.transcription.model");
      assert.match(body.error.message, /gpt-transcribe/);
      assert.ok(refused.res.headers.get("access-control-allow-origin"));
      const form = new FormData();
      form.set("sdp", offer.sdp);
      form.set(
        "session",
        JSON.stringify({
          type: "transcription",
          audio: { input: { transcription: { model: "gpt-transcribe" } } },
        }),
      );
      const multipart = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}` },
        body: form,
      });
      assert.equal(multipart.status, 400);
      await multipart.body?.cancel();
      const ok = await createRawCall(emu, offer.sdp, await mint("gpt-4o-transcribe"));
      assert.equal(ok.res.status, 201);
      assert.equal(emu.control.calls().length, 1);
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

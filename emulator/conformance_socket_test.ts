/**
 * Conformance, protocol reference §4 and §6 over real WebSockets on loopback:
 * handshake outcomes, auth variants, sideband attach and fan-out, session.update
 * validation, client-event errors, expiry and socket faults.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  createRawCall,
  EventSocket,
  makeOffer,
  post,
  startTestEmulator,
  transcriptionSocket,
  wsUrl,
} from "./testkit.ts";

const T = {};
/** werift (the client offer peer) leaves timers and crypto handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "§4.3 handshakes: unknown call_id 404 JSON, bad key 3000, beta 4000, subprotocol auth",
  T,
  async () => {
    const emu = await startTestEmulator();
    try {
      const res = await fetch(
        `${emu.baseUrl}/v1/realtime?call_id=rtc_missing`,
        {
          headers: {
            authorization: `Bearer ${emu.apiKey}`,
            upgrade: "websocket",
            connection: "Upgrade",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            "sec-websocket-version": "13",
          },
        },
      );
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), {
        error: {
          message: "No session found for the provided call_id",
          type: "invalid_request_error",
          code: "call_id_not_found",
          param: "",
        },
      });

      const bad = new EventSocket(wsUrl(emu, "intent=transcription"), {
        headers: { Authorization: "Bearer sk-wrong" },
      });
      const badClose = await bad.closed;
      assert.equal(badClose.code, 3000);
      assert.equal(badClose.reason, "invalid_request_error.invalid_api_key");
      assert.equal(bad.events[0].type, "error");
      assert.equal(bad.events[0].error.code, "invalid_api_key");

      const beta = new EventSocket(wsUrl(emu, "intent=transcription"), {
        headers: {
          Authorization: `Bearer ${emu.apiKey}`,
          "OpenAI-Beta": "realtime=v1",
        },
      });
      const betaClose = await beta.closed;
      assert.equal(betaClose.code, 4000);
      assert.equal(beta.events[0].error.code, "beta_api_shape_disabled");

      const noModel = new EventSocket(wsUrl(emu, "model="), {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      assert.equal((await noModel.closed).code, 4000);
      assert.equal(noModel.events[0].error.code, "missing_model");

      const sub = new EventSocket(wsUrl(emu, "intent=transcription"), {
        protocols: ["realtime", `openai-insecure-api-key.${emu.apiKey}`],
      });
      await sub.opened;
      assert.equal(sub.ws.protocol, "realtime");
      const created = await sub.waitFor("session.created");
      assert.equal(sub.events[0], created);
      assert.equal(created.session.object, "realtime.transcription_session");
      assert.ok(created.session.expires_at > Date.now() / 1000 + 3500);
      await sub.close();

      const model = new EventSocket(wsUrl(emu, "model=gpt-realtime"), {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      const mc = await model.waitFor("session.created");
      assert.equal(mc.session.object, "realtime.session");
      assert.equal(mc.session.model, "gpt-realtime");
      await model.close();
    } finally {
      await emu.close();
    }
  },
);

Deno.test(
  "§6.1/§6.5 client event errors: unknown type, JSON, binary, commit empty, event_id echo",
  T,
  async () => {
    const emu = await startTestEmulator();
    const s = await transcriptionSocket(emu);
    try {
      s.send({
        type: "transcription_session.update",
        event_id: "evt_client_1",
        session: {},
      });
      const e1 = await s.waitFor("error");
      assert.equal(e1.error.code, "invalid_value");
      assert.equal(e1.error.param, "type");
      assert.equal(e1.error.event_id, "evt_client_1");
      assert.match(e1.error.message, /'session\.update'.*'response\.cancel'/);
      assert.match(e1.event_id, /^event_/);

      s.ws.send("{not json");
      const e2 = await s.waitFor(
        "error",
        (e) => e.error.code === "invalid_json",
      );
      assert.equal(e2.error.param, null);

      s.ws.send(new Uint8Array([1, 2, 3]));
      const e3 = await s.waitFor(
        "error",
        (e) => e.error.code === "invalid_event",
      );
      assert.match(e3.error.message, /binary frames are not supported/);

      s.send({ type: "input_audio_buffer.commit" });
      const e4 = await s.waitFor(
        "error",
        (e) => e.error.code === "input_audio_buffer_commit_empty",
      );
      assert.match(e4.error.message, /buffer too small/);

      s.send({ type: "input_audio_buffer.clear" });
      await s.waitFor("input_audio_buffer.cleared");
      // Errors are not fatal.
      assert.equal(s.ws.readyState, WebSocket.OPEN);
    } finally {
      await s.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§5/§6.1 session.update: validation discards the whole update; updated carries full session",
  T,
  async () => {
    const emu = await startTestEmulator();
    const s = await transcriptionSocket(emu);
    try {
      const bad: [unknown, string, string][] = [
        [{ audio: {} }, "missing_required_parameter", "session.type"],
        [
          { type: "transcription", bogus_field: 1 },
          "unknown_parameter",
          "session.bogus_field",
        ],
        [
          { type: "transcription", input_audio_format: "pcm16" },
          "unknown_parameter",
          "session.input_audio_format",
        ],
        [
          { type: "transcription", turn_detection: null },
          "unknown_parameter",
          "session.turn_detection",
        ],
        [
          {
            type: "transcription",
            audio: { input: { format: { type: "audio/pcm", rate: 16000 } } },
          },
          "integer_below_min_value",
          "session.audio.input.format.rate",
        ],
        [
          {
            type: "transcription",
            audio: { input: { format: { type: "pcm16" } } },
          },
          "invalid_value",
          "session.audio.input.format.type",
        ],
        [
          {
            type: "transcription",
            audio: {
              input: {
                transcription: { model: "gpt-4o-transcribe" },
                turn_detection: { type: "x" },
              },
            },
          },
          "invalid_value",
          "session.audio.input.turn_detection.type",
        ],
        [{ type: "realtime" }, "invalid_value", "session.type"],
        // gpt-live-transcribe + server VAD is refused (it used to stream but never complete).
        [
          {
            type: "transcription",
            audio: {
              input: {
                transcription: { model: "gpt-live-transcribe" },
                turn_detection: { type: "server_vad" },
              },
            },
          },
          "invalid_value",
          "session.audio.input.turn_detection",
        ],
      ];
      for (const [session, code, param] of bad) {
        const n = s.events.length;
        s.send({ type: "session.update", session });
        const e = await s.waitFor("error", () => s.events.length > n);
        assert.equal(e.error.code, code, JSON.stringify(e));
        assert.equal(e.error.param, param);
      }
      assert.equal(s.types().filter((t) => t === "session.updated").length, 0);
      // The discarded update with a valid model part did not apply.
      s.send({
        type: "session.update",
        session: {
          type: "transcription",
          include: ["item.input_audio_transcription.logprobs"],
        },
      });
      const u = await s.waitFor("session.updated");
      assert.equal(u.session.audio.input.transcription, null);
      assert.deepEqual(u.session.include, [
        "item.input_audio_transcription.logprobs",
      ]);
      assert.equal(u.session.audio.input.turn_detection.type, "server_vad");
      assert.notEqual(u.event_id, undefined);
    } finally {
      await s.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§4.4 sideband: attach to a call, no session.created by default, fan-out to several sidebands, errors to sender only",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const offer = await makeOffer();
    const auth = { headers: { Authorization: `Bearer ${emu.apiKey}` } };
    try {
      const { callId } = await createRawCall(emu, offer.sdp);
      const a = new EventSocket(wsUrl(emu, `call_id=${callId}`), auth);
      const b = new EventSocket(wsUrl(emu, `call_id=${callId}`), {
        protocols: ["realtime", `openai-insecure-api-key.${emu.apiKey}`],
      });
      await Promise.all([a.opened, b.opened]);
      assert.equal(b.ws.protocol, "realtime");
      a.send({
        type: "session.update",
        session: {
          type: "realtime",
          audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
        },
      });
      const [ua, ub] = await Promise.all([
        a.waitFor("session.updated"),
        b.waitFor("session.updated"),
      ]);
      assert.equal(ua.event_id, ub.event_id);
      assert.equal(
        ub.session.audio.input.transcription.model,
        "gpt-4o-transcribe",
      );
      assert.ok(!a.types().includes("session.created"));
      b.send({
        type: "session.update",
        session: { type: "realtime", bogus: 1 },
      });
      await b.waitFor("error");
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!a.types().includes("error"));
      // Ephemeral keys cannot attach (404 since 2026-09).
      const secret = await post(emu, "/v1/realtime/client_secrets", {});
      const eph = await fetch(`${emu.baseUrl}/v1/realtime?call_id=${callId}`, {
        headers: {
          authorization: `Bearer ${secret.json!.value}`,
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      await eph.body?.cancel();
      assert.equal(eph.status, 404);
      // A closed sideband does not end the call.
      await a.close();
      const listed = emu.control.calls().find((c) => c.id === callId)!;
      assert.equal(listed.state, "active");
      assert.equal((listed.sidebands as string[]).length, 1);
      // Hangup closes the remaining sideband and the call is gone for new sidebands.
      assert.equal(
        (await post(emu, `/v1/realtime/calls/${callId}/hangup`)).status,
        200,
      );
      await b.closed;
    } finally {
      await offer.close();
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

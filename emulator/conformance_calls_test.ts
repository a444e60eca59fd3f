/**
 * Conformance, protocol reference §2 over real HTTP on loopback: calls (raw SDP and
 * multipart), CORS, call control and REST faults.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertEnvelope, createRawCall, makeOffer, post, startTestEmulator } from "./testkit.ts";

/** werift (the client offer peer) leaves timers and crypto handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "§2 calls: raw SDP with ek_ and standard key, 201 + Location + CORS, hangup 200 then 404",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const offer = await makeOffer();
    try {
      const secret = await post(emu, "/v1/realtime/client_secrets", {
        session: { type: "transcription" },
      });
      for (const key of [secret.json!.value, emu.apiKey]) {
        const { res, answer, callId } = await createRawCall(
          emu,
          offer.sdp,
          key,
        );
        assert.equal(res.status, 201, answer);
        assert.equal(res.headers.get("content-type"), "application/sdp");
        assert.match(
          res.headers.get("location")!,
          /^\/v1\/realtime\/calls\/rtc_[A-Za-z0-9_]+$/,
        );
        assert.equal(
          res.headers.get("access-control-expose-headers"),
          "Location",
        );
        assert.match(answer, /^v=0/);
        assert.equal(
          (await post(emu, `/v1/realtime/calls/${callId}/hangup`, {})).status,
          200,
        );
        const again = await post(
          emu,
          `/v1/realtime/calls/${callId}/hangup`,
          {},
        );
        assert.equal(again.status, 404);
      }
      // One secret starts several calls; the ek_ session is the secret's.
      const second = await createRawCall(emu, offer.sdp, secret.json!.value);
      assert.equal(second.res.status, 201);
      const listed = emu.control.calls().find((c) => c.id === second.callId)!;
      // deno-lint-ignore no-explicit-any
      assert.equal((listed.session as any).type, "transcription");
      // Ephemeral keys cannot hang up (standard key only).
      assert.equal(
        (await post(
          emu,
          `/v1/realtime/calls/${second.callId}/hangup`,
          {},
          secret.json!.value,
        )).status,
        401,
      );
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§2.2 calls multipart: sdp + session, boundary required, session validated",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const offer = await makeOffer();
    try {
      const form = new FormData();
      form.set("sdp", new Blob([offer.sdp], { type: "application/sdp" }));
      form.set(
        "session",
        new Blob([JSON.stringify({
          type: "transcription",
          audio: {
            input: { transcription: { model: "gpt-4o-mini-transcribe" } },
          },
        })], { type: "application/json" }),
      );
      const res = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}` },
        body: form,
      });
      assert.equal(res.status, 201, await res.clone().text());
      assert.match(await res.text(), /^v=0/);
      const callId = res.headers.get("location")!.split("/").pop()!;
      // deno-lint-ignore no-explicit-any
      const session: any = emu.control.calls().find((c) => c.id === callId)!.session;
      assert.equal(
        session.audio.input.transcription.model,
        "gpt-4o-mini-transcribe",
      );

      const noBoundary = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${emu.apiKey}`,
          "content-type": "multipart/form-data",
        },
        body: "--x\r\n",
      });
      assert.equal(noBoundary.status, 400);
      assertEnvelope(await noBoundary.json(), null, null);

      const badSession = new FormData();
      badSession.set("sdp", offer.sdp);
      badSession.set(
        "session",
        JSON.stringify({ type: "transcription", bogus: true }),
      );
      const r2 = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}` },
        body: badSession,
      });
      assert.equal(r2.status, 400);
      assertEnvelope(await r2.json(), "unknown_parameter", "session.bogus");
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§2.4–2.5 calls: preflight, bad SDP, 401, empty-400 option, Location fault",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const empty = await startTestEmulator({ emptyBadSdpError: true });
    const offer = await makeOffer();
    try {
      const pre = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
        method: "OPTIONS",
        headers: {
          origin: "http://app.test",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      await pre.body?.cancel();
      assert.equal(pre.status, 204);
      assert.equal(
        pre.headers.get("access-control-allow-origin"),
        "http://app.test",
      );
      assert.equal(
        pre.headers.get("access-control-allow-headers")!.toLowerCase(),
        "authorization, content-type",
      );
      assert.match(pre.headers.get("access-control-allow-methods")!, /POST/);
      // @openai/agents-realtime's browser SDP POST adds X-OpenAI-Agents-SDK (allowed live); the
      // live API refuses `originator` and `version`, so they stay out of the allowed list.
      const preflight = async (headers: string) => {
        const r = await fetch(`${emu.baseUrl}/v1/realtime/calls`, {
          method: "OPTIONS",
          headers: {
            origin: "http://app.test",
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
          },
        });
        await r.body?.cancel();
        return r.headers.get("access-control-allow-headers")!.toLowerCase().split(", ");
      };
      assert.deepEqual(await preflight("authorization,content-type,x-openai-agents-sdk"), [
        "authorization",
        "content-type",
        "x-openai-agents-sdk",
      ]);
      assert.deepEqual(
        await preflight("authorization,content-type,originator,version,x-stainless-os"),
        ["authorization", "content-type", "x-stainless-os"],
      );

      const bad = await createRawCall(emu, "hello");
      assert.equal(bad.res.status, 400);
      assertEnvelope(JSON.parse(bad.answer), "invalid_offer", "sdp");
      const bad2 = await createRawCall(empty, "v=0\r\n");
      assert.equal(bad2.res.status, 400);
      assert.deepEqual(JSON.parse(bad2.answer), {
        error: { message: "", type: "", code: "", param: "" },
      });

      const unauth = await createRawCall(emu, offer.sdp, "ek_doesnotexist");
      assert.equal(unauth.res.status, 401);
      assertEnvelope(JSON.parse(unauth.answer), "invalid_api_key", null);
      assert.ok(unauth.res.headers.get("access-control-allow-origin"));

      const expiring = await post(emu, "/v1/realtime/client_secrets", {
        expires_after: { seconds: 10 },
      });
      emu.control.state.secrets.get(expiring.json!.value)!.expiresAt = Date.now() / 1000 - 1;
      assert.equal(
        (await createRawCall(emu, offer.sdp, expiring.json!.value)).res.status,
        401,
      );

      await post(emu, "/_emulator/faults", { exposeLocation: false });
      const hidden = await createRawCall(emu, offer.sdp);
      assert.equal(hidden.res.status, 201);
      // Every REST answer carries a request id, errors too.
      for (const r of [hidden.res, bad.res, unauth.res, pre]) {
        assert.match(r.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
      }
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

/**
 * Conformance, Realtime Translation API over real HTTP and WebRTC on loopback:
 * `POST /v1/realtime/translations/calls` (201, `Location`, CORS, `?model=` under both settings,
 * key/session mismatches, bad SDP, faults), the answer's audio back-channel, data-channel
 * `session.update` rules and `session.close`, sidebands (refused by default, allowed per URL),
 * hangup (none by default), expiry.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createOpusDecoder } from "./webrtc.ts";
import {
  assertEnvelope,
  connectWeriftCall,
  createRawCall,
  EventSocket,
  makeOffer,
  post,
  startTestEmulator,
  until,
  type WeriftCall,
  wsUrl,
} from "./testkit.ts";
import type { RunningEmulator } from "./mod.ts";

/** werift leaves timers and crypto handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };
const CALLS = "/v1/realtime/translations/calls";

async function translationSecret(emu: RunningEmulator, language = "es"): Promise<string> {
  const r = await post(emu, "/v1/realtime/translations/client_secrets", {
    session: { model: "gpt-realtime-translate", audio: { output: { language } } },
  });
  assert.equal(r.status, 200, r.text);
  return r.json!.value;
}

function translationsUrl(emu: RunningEmulator, query: string): string {
  return `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime/translations?${query}`;
}

/** Expects a sideband handshake to be refused with the HTTP 404 of an unknown call. */
async function assertRefused(url: string, key: string): Promise<void> {
  const res = await fetch(url.replace(/^ws/, "http"), {
    headers: {
      authorization: `Bearer ${key}`,
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    },
  });
  assert.equal(res.status, 404, url);
  assert.match(res.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/, url);
  assertEnvelope(await res.json(), "call_id_not_found", "");
}

Deno.test(
  "translation calls: 201 + Location + CORS with an ek_ or the standard key; the answer sends audio",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const offer = await makeOffer();
    try {
      for (const key of [await translationSecret(emu, "de"), emu.apiKey]) {
        const { res, answer, callId } = await createRawCall(emu, offer.sdp, key, CALLS);
        assert.equal(res.status, 201, answer);
        assert.equal(res.headers.get("content-type"), "application/sdp");
        assert.match(
          res.headers.get("location")!,
          /^\/v1\/realtime\/translations\/calls\/rtc_[A-Za-z0-9_]+$/,
        );
        assert.equal(res.headers.get("access-control-expose-headers"), "Location");
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.match(res.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);
        // Translated speech comes back on the audio m-line, with a stream id for `ontrack`.
        const audio = answer.split(/^(?=m=)/m).find((m) => m.startsWith("m=audio"))!;
        assert.match(audio, /^a=sendrecv\r?$/m);
        assert.match(audio, /^a=msid:\S+ \S+\r?$/m);
        const call = emu.control.calls().find((c) => c.id === callId)!;
        assert.equal(call.kind, "webrtc");
        assert.equal(call.api, "translation");
        // deno-lint-ignore no-explicit-any
        const session = call.session as any;
        assert.equal(session.type, "translation");
        assert.equal(session.audio.output.language, key === emu.apiKey ? "en" : "de");
      }
      // A transcription call answers receive-only, as before.
      const plain = await createRawCall(emu, offer.sdp);
      assert.equal(plain.res.status, 201);
      const audio = plain.answer.split(/^(?=m=)/m).find((m) => m.startsWith("m=audio"))!;
      assert.match(audio, /^a=recvonly\r?$/m);

      // The preflight follows /v1/realtime/calls: exactly the requested headers the live API
      // allows there (`corsAllowedHeaders`), on the calls URL and on a call's hangup URL.
      for (const path of [CALLS, `${CALLS}/rtc_x/hangup`]) {
        const pre = await fetch(emu.baseUrl + path, {
          method: "OPTIONS",
          headers: {
            origin: "http://localhost:1234",
            "access-control-request-method": "POST",
            "access-control-request-headers":
              "authorization, content-type, x-openai-agents-sdk, x-stainless-os, originator, version",
          },
        });
        await pre.body?.cancel();
        assert.equal(pre.status, 204, path);
        assert.equal(pre.headers.get("access-control-allow-origin"), "http://localhost:1234");
        assert.equal(pre.headers.get("access-control-allow-methods"), "POST, OPTIONS");
        assert.equal(
          pre.headers.get("access-control-allow-headers"),
          "authorization, content-type, x-openai-agents-sdk, x-stainless-os",
          path,
        );
        assert.match(pre.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);
      }

      await post(emu, "/_emulator/faults", { exposeLocation: false });
      const hidden = await createRawCall(emu, offer.sdp, emu.apiKey, CALLS);
      assert.equal(hidden.res.status, 201);
      assert.equal(hidden.res.headers.get("access-control-expose-headers"), null);
    } finally {
      await offer.close();
      await emu.close();
    }
  },
);

Deno.test(
  "translation calls: ?model= is refused by default, checked with translationCallModelQuery 'accept'",
  TW,
  async () => {
    const offer = await makeOffer();
    const strict = await startTestEmulator();
    const lax = await startTestEmulator({ translationCallModelQuery: "accept" });
    try {
      const ek = await translationSecret(strict);
      const r = await createRawCall(strict, offer.sdp, ek, `${CALLS}?model=gpt-realtime-translate`);
      assert.equal(r.res.status, 400);
      assertEnvelope(JSON.parse(r.answer), "unknown_parameter", "model");
      assert.equal(strict.control.calls().length, 0);

      const ok = await createRawCall(
        lax,
        offer.sdp,
        lax.apiKey,
        `${CALLS}?model=gpt-realtime-translate`,
      );
      assert.equal(ok.res.status, 201, ok.answer);
      const bad = await createRawCall(lax, offer.sdp, lax.apiKey, `${CALLS}?model=gpt-realtime`);
      assert.equal(bad.res.status, 400);
      assertEnvelope(JSON.parse(bad.answer), "invalid_value", "model");
    } finally {
      await offer.close();
      await strict.close();
      await lax.close();
    }
  },
);

Deno.test(
  "translation calls: 401, mismatched secrets, bad SDP, multipart, REST faults",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const empty = await startTestEmulator({ emptyBadSdpError: true });
    const offer = await makeOffer();
    try {
      const none = await fetch(emu.baseUrl + CALLS, {
        method: "POST",
        headers: { "content-type": "application/sdp" },
        body: offer.sdp,
      });
      assert.equal(none.status, 401);
      assertEnvelope(await none.json(), null, null);
      const wrong = await createRawCall(emu, offer.sdp, "ek_0123456789abcdef", CALLS);
      assert.equal(wrong.res.status, 401);
      assertEnvelope(JSON.parse(wrong.answer), "invalid_api_key", null);
      assert.match(wrong.res.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);

      // A Realtime secret on the translation endpoint and vice versa: OpenAI's all-empty 400.
      const realtime = await post(emu, "/v1/realtime/client_secrets", {
        session: { type: "transcription" },
      });
      const cross = await createRawCall(emu, offer.sdp, realtime.json!.value, CALLS);
      assert.equal(cross.res.status, 400);
      assert.deepEqual(JSON.parse(cross.answer), {
        error: { message: "", type: "", code: "", param: "" },
      });
      const ek = await translationSecret(emu);
      const back = await createRawCall(emu, offer.sdp, ek);
      assert.equal(back.res.status, 400);
      assert.deepEqual(JSON.parse(back.answer).error.code, "");
      // ... and on the Realtime WebSocket.
      const ws = new EventSocket(wsUrl(emu, "intent=transcription"), {
        headers: { Authorization: `Bearer ${ek}` },
      });
      const wsClose = await ws.closed;
      assert.equal(wsClose.code, 4000);
      assert.equal(ws.events[0].error.code, "invalid_request");

      for (const [e, body] of [[emu, "hello"], [empty, "hello"]] as const) {
        const bad = await createRawCall(e, body, e.apiKey, CALLS);
        assert.equal(bad.res.status, 400);
        if (e === emu) assertEnvelope(JSON.parse(bad.answer), "invalid_offer", "sdp");
        else assert.deepEqual(JSON.parse(bad.answer).error.message, "");
      }
      const form = new FormData();
      form.set("sdp", offer.sdp);
      const multipart = await fetch(emu.baseUrl + CALLS, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}` },
        body: form,
      });
      assert.equal(multipart.status, 400);
      assertEnvelope(await multipart.json(), null, null);

      await post(emu, "/_emulator/faults", {
        rest: [{ endpoint: "translation_calls", status: 503 }],
      });
      const busy = await createRawCall(emu, offer.sdp, ek, CALLS);
      assert.equal(busy.res.status, 503);
      assertEnvelope(JSON.parse(busy.answer), null, null);
      assert.equal(busy.res.headers.get("access-control-allow-origin"), "*");
      assert.equal((await createRawCall(emu, offer.sdp, ek, CALLS)).res.status, 201);
      assert.equal(emu.control.calls().filter((c) => c.api === "translation").length, 1);
    } finally {
      await offer.close();
      await emu.close();
      await empty.close();
    }
  },
);

Deno.test("translation calls: an expired secret starts no call", TW, async () => {
  const emu = await startTestEmulator();
  const offer = await makeOffer();
  try {
    const ek = await translationSecret(emu);
    // Expire it without waiting 10 s: the emulator's record is the only state of a secret.
    emu.control.state.secrets.get(ek)!.expiresAt = Math.floor(Date.now() / 1000) - 1;
    const r = await createRawCall(emu, offer.sdp, ek, CALLS);
    assert.equal(r.res.status, 401);
    assertEnvelope(JSON.parse(r.answer), "invalid_api_key", null);
  } finally {
    await offer.close();
    await emu.close();
  }
});

Deno.test(
  "translation calls over werift: session.created, update rules, session.close, audio track",
  TW,
  async () => {
    const emu = await startTestEmulator();
    let client: WeriftCall | null = null;
    try {
      const ek = await translationSecret(emu, "es");
      client = await connectWeriftCall(emu, { key: ek, path: CALLS });
      const c = client;
      const created = c.events[0];
      assert.equal(created.type, "session.created");
      assert.match(created.event_id, /^event_/);
      assert.equal(created.session.type, "translation");
      assert.equal(created.session.audio.output.language, "es");
      assert.ok(created.session.expires_at > Date.now() / 1000 + 3000);

      // The default rule: only audio.output.language may change; a rejected update changes nothing.
      c.send({
        type: "session.update",
        event_id: "evt_1",
        session: { audio: { input: { transcription: { model: "gpt-realtime-whisper" } } } },
      });
      c.send({ type: "session.update", session: { model: "gpt-realtime-translate" } });
      c.send({ type: "session.update", session: { audio: { output: { language: "xx" } } } });
      c.send({ type: "input_audio_buffer.commit" });
      c.send({ type: "session.update", session: { audio: { output: { language: "ja" } } } });
      await until(() => c.events.some((e) => e.type === "session.updated"), 5000, "updated");
      const errors = c.events.filter((e) => e.type === "error").map((e) => e.error);
      assert.deepEqual(
        errors.map((e) => [e.code, e.param]),
        [
          ["unsupported_parameter", "session.audio.input.transcription"],
          ["unknown_parameter", "session.model"],
          ["invalid_value", "session.audio.output.language"],
          ["invalid_value", "type"],
        ],
      );
      assert.equal(errors[0].event_id, "evt_1");
      assert.match(
        errors[3].message,
        /'session\.update', 'session\.input_audio_buffer\.append', and 'session\.close'/,
      );
      const updated = c.events.find((e) => e.type === "session.updated")!;
      assert.deepEqual(updated.session.audio, {
        input: { noise_reduction: null, transcription: null },
        output: { language: "ja" },
      });

      // Translated speech: a continuous Opus stream back to the client (silence while idle).
      await until(() => c.audioPayloads.length >= 10, 5000, "audio from the server");
      const decoder = createOpusDecoder();
      try {
        const pcm = decoder.decode(c.audioPayloads[c.audioPayloads.length - 1]);
        assert.equal(pcm.length, 480);
        assert.ok(pcm.every((v) => Math.abs(v) < 50), "idle output is silence");
      } finally {
        decoder.close();
      }

      c.send({ type: "session.close" });
      await until(() => c.events.some((e) => e.type === "session.closed"), 5000, "closed");
      await until(() => c.dc.readyState === "closed", 5000, "the channel to close");
      const call = emu.control.calls().find((x) => x.id === c.callId)!;
      assert.equal(call.state, "ended");
      assert.equal(call.endedReason, "session.close");
      assert.ok((call.peer as null) === null);
    } finally {
      await client?.pc.close();
      await emu.close();
    }
  },
);

Deno.test(
  "translation calls: session.update of input fields with translationUpdatableFields 'sdk'",
  TW,
  async () => {
    const emu = await startTestEmulator({ translationUpdatableFields: "sdk" });
    let client: WeriftCall | null = null;
    try {
      client = await connectWeriftCall(emu, { path: CALLS });
      const c = client;
      c.send({
        type: "session.update",
        session: {
          audio: {
            input: {
              transcription: { model: "gpt-realtime-whisper" },
              noise_reduction: { type: "far_field", strength: 0.4 },
            },
          },
        },
      });
      c.send({
        type: "session.update",
        session: { audio: { input: { noise_reduction: { type: "near_field" } } } },
      });
      await until(
        () => c.events.filter((e) => e.type === "session.updated").length === 2,
        5000,
        "two updates",
      );
      const last = c.events.filter((e) => e.type === "session.updated")[1];
      assert.deepEqual(last.session.audio.input, {
        // Omitting strength keeps the current one.
        noise_reduction: { type: "near_field", strength: 0.4 },
        transcription: { model: "gpt-realtime-whisper" },
      });
    } finally {
      await client?.pc.close();
      await emu.close();
    }
  },
);

Deno.test(
  "translation calls: sideband refused by default (404 on both URLs), hangup 404, expiry",
  TW,
  async () => {
    const emu = await startTestEmulator({ sessionMaxSeconds: 4 });
    let client: WeriftCall | null = null;
    try {
      client = await connectWeriftCall(emu, { path: CALLS });
      const c = client;
      await assertRefused(wsUrl(emu, `call_id=${c.callId}`), emu.apiKey);
      await assertRefused(translationsUrl(emu, `call_id=${c.callId}`), emu.apiKey);
      for (const path of [`/v1/realtime/calls/${c.callId}/hangup`, `${CALLS}/${c.callId}/hangup`]) {
        const r = await post(emu, path, {});
        assert.equal(r.status, 404, path);
        assertEnvelope(r.json, "call_not_found", null);
      }
      for (const action of ["accept", "reject", "refer"]) {
        assert.equal((await post(emu, `/v1/realtime/calls/${c.callId}/${action}`, {})).status, 404);
      }
      // The session-duration limit applies as to every session.
      await until(() => c.events.some((e) => e.type === "error"), 8000, "session_expired");
      assert.equal(c.events.find((e) => e.type === "error")!.error.code, "session_expired");
      await until(
        () => emu.control.calls().find((x) => x.id === c.callId)!.state === "ended",
        5000,
        "the call to end",
      );
    } finally {
      await client?.pc.close();
      await emu.close();
    }
  },
);

for (const setting of ["realtime_url", "translations_url", "both"] as const) {
  Deno.test(
    `translation calls: translationSideband '${setting}' attaches on its URL only`,
    TW,
    async () => {
      const emu = await startTestEmulator({
        translationSideband: setting,
        translationHangup: true,
      });
      let client: WeriftCall | null = null;
      const sidebands: EventSocket[] = [];
      try {
        client = await connectWeriftCall(emu, { path: CALLS });
        const c = client;
        const urls = {
          realtime_url: wsUrl(emu, `call_id=${c.callId}`),
          translations_url: translationsUrl(emu, `call_id=${c.callId}`),
        };
        for (const [name, url] of Object.entries(urls)) {
          if (setting !== "both" && name !== setting) {
            await assertRefused(url, emu.apiKey);
            continue;
          }
          const sb = new EventSocket(url, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
          await sb.opened;
          sidebands.push(sb);
        }
        // Only live translation calls: a transcription call's id is unknown on the translations URL.
        const offer = await makeOffer();
        const plain = await createRawCall(emu, offer.sdp);
        await assertRefused(translationsUrl(emu, `call_id=${plain.callId}`), emu.apiKey);
        await offer.close();

        // A sideband may update the language; everyone gets session.updated.
        sidebands[0].send({
          type: "session.update",
          session: { audio: { output: { language: "ko" } } },
        });
        for (const sb of sidebands) {
          const u = await sb.waitFor("session.updated");
          assert.equal(u.session.audio.output.language, "ko");
        }
        await until(() => c.events.some((e) => e.type === "session.updated"), 5000, "updated");
        // No session.created on attach (option sidebandSessionCreated, as for Realtime sidebands).
        assert.ok(sidebands.every((sb) => !sb.types().includes("session.created")));

        if (setting === "both") {
          // The sideband faults apply as to Realtime sidebands.
          await post(emu, "/_emulator/faults", { refuseSidebandAttaches: 1 });
          await assertRefused(urls.translations_url, emu.apiKey);
          const extra = new EventSocket(urls.translations_url, {
            headers: { Authorization: `Bearer ${emu.apiKey}` },
          });
          await extra.opened;
          const dropped = await post(emu, "/_emulator/faults", { dropSidebands: c.callId });
          assert.equal(dropped.json!.droppedSidebands, 3);
          assert.equal((await extra.closed).code, 1011);
          for (const sb of sidebands) assert.equal((await sb.closed).code, 1011);
          sidebands.length = 0;
          const again = new EventSocket(urls.realtime_url, {
            headers: { Authorization: `Bearer ${emu.apiKey}` },
          });
          await again.opened;
          sidebands.push(again);
        }

        // translationHangup: the Realtime hangup endpoint ends a translation call.
        const hang = await post(emu, `/v1/realtime/calls/${c.callId}/hangup`, {});
        assert.equal(hang.status, 200);
        for (const sb of sidebands) assert.equal((await sb.closed).code, 1000);
        await until(() => c.dc.readyState === "closed", 5000, "the channel to close");
        assert.equal((await post(emu, `${CALLS}/${c.callId}/hangup`, {})).status, 404);
      } finally {
        for (const sb of sidebands) await sb.close();
        await client?.pc.close();
        await emu.close();
      }
    },
  );
}

Deno.test(
  "translation calls: sidebandRefusesUpdates refuses a translation sideband's session.update",
  TW,
  async () => {
    const emu = await startTestEmulator({
      translationSideband: "translations_url",
      sidebandRefusesUpdates: true,
    });
    let client: WeriftCall | null = null;
    let sb: EventSocket | null = null;
    try {
      client = await connectWeriftCall(emu, { path: CALLS });
      const c = client;
      sb = new EventSocket(translationsUrl(emu, `call_id=${c.callId}`), {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      await sb.opened;
      sb.send({
        type: "session.update",
        event_id: "sb_1",
        session: { audio: { output: { language: "ko" } } },
      });
      const refused = await sb.waitFor("error");
      assert.deepEqual(
        [refused.error.code, refused.error.param, refused.error.event_id],
        ["invalid_value", "type", "sb_1"],
      );
      // The data channel still may update; the sideband sees that update.
      c.send({ type: "session.update", session: { audio: { output: { language: "it" } } } });
      const updated = await sb.waitFor("session.updated");
      assert.equal(updated.session.audio.output.language, "it");
      assert.equal(sb.events.filter((e) => e.type === "session.updated").length, 1);
    } finally {
      await sb?.close();
      await client?.pc.close();
      await emu.close();
    }
  },
);

/**
 * The emulator's Translation API options and faults, over real HTTP, WebSockets and werift WebRTC
 * on loopback (the protocol cases, with the default of each option as an open question, run in
 * the conformance suite): `translationLanguages`/`translationDefaultLanguage`,
 * `translationCallModelQuery: "accept"`, `translationUpdatableFields: "sdk"`, `translationSideband`
 * per URL with `translationHangup`, `sidebandRefusesUpdates` on a translation sideband, the
 * `translation_client_secrets`/`translation_calls` faults, `exposeLocation`, `emptyBadSdpError`,
 * and the session-duration limit.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertEnvelope,
  connectWeriftCall,
  createRawCall,
  EventSocket,
  makeOffer,
  post,
  startTestEmulator,
  translationSocket,
  translationsUrl,
  until,
  type WeriftCall,
  wsUrl,
} from "./testkit.ts";
import type { RunningEmulator } from "./mod.ts";

/** werift leaves timers and crypto handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };
const CALLS = "/v1/realtime/translations/calls";
const SECRETS = "/v1/realtime/translations/client_secrets";

async function translationSecret(emu: RunningEmulator, language = "es"): Promise<string> {
  const r = await post(emu, SECRETS, {
    session: { model: "gpt-realtime-translate", audio: { output: { language } } },
  });
  assert.equal(r.status, 200, r.text);
  return r.json!.value;
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

Deno.test("translation client_secrets: translationLanguages 'any' accepts unlisted languages", async () => {
  const emu = await startTestEmulator({
    translationLanguages: "any",
    translationDefaultLanguage: "fr",
  });
  try {
    const r = await post(emu, SECRETS, {
      session: { model: "gpt-realtime-translate", audio: { output: { language: "nl" } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json!.session.audio.output.language, "nl");
    const bare = await post(emu, SECRETS, { session: { model: "gpt-realtime-translate" } });
    assert.equal(bare.json!.session.audio.output.language, "fr");
  } finally {
    await emu.close();
  }
});

Deno.test("translation client_secrets: the translation_client_secrets REST fault", async () => {
  const emu = await startTestEmulator();
  try {
    const body = { session: { model: "gpt-realtime-translate" } };
    const set = await post(emu, "/_emulator/faults", {
      rest: [{ endpoint: "translation_client_secrets", status: 429 }],
    });
    assert.equal(set.status, 200, set.text);
    const limited = await post(emu, SECRETS, body);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assertEnvelope(limited.json, "rate_limit_exceeded", null);
    // The fault is consumed; the Realtime endpoint was never affected.
    assert.equal((await post(emu, SECRETS, body)).status, 200);
    await post(emu, "/_emulator/faults", { rest: [{ endpoint: "client_secrets", status: 500 }] });
    assert.equal((await post(emu, SECRETS, body)).status, 200);
  } finally {
    await emu.close();
  }
});

Deno.test(
  "translation calls: exposeLocation:false hides Location, emptyBadSdpError, the translation_calls fault",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const empty = await startTestEmulator({ emptyBadSdpError: true });
    const offer = await makeOffer();
    try {
      await post(emu, "/_emulator/faults", { exposeLocation: false });
      const hidden = await createRawCall(emu, offer.sdp, emu.apiKey, CALLS);
      assert.equal(hidden.res.status, 201);
      assert.equal(hidden.res.headers.get("access-control-expose-headers"), null);
      await post(emu, "/_emulator/faults", { exposeLocation: true });

      const bad = await createRawCall(empty, "hello", empty.apiKey, CALLS);
      assert.equal(bad.res.status, 400);
      assert.deepEqual(JSON.parse(bad.answer).error.message, "");

      const ek = await translationSecret(emu);
      await post(emu, "/_emulator/faults", {
        rest: [{ endpoint: "translation_calls", status: 503 }],
      });
      const busy = await createRawCall(emu, offer.sdp, ek, CALLS);
      assert.equal(busy.res.status, 503);
      assertEnvelope(JSON.parse(busy.answer), null, null);
      assert.equal(busy.res.headers.get("access-control-allow-origin"), "*");
      assert.equal((await createRawCall(emu, offer.sdp, ek, CALLS)).res.status, 201);
      // The hidden-Location call and this one; the faulted request started none.
      assert.equal(emu.control.calls().filter((c) => c.api === "translation").length, 2);
    } finally {
      await offer.close();
      await emu.close();
      await empty.close();
    }
  },
);

Deno.test(
  "translation calls: ?model= with translationCallModelQuery 'accept' is checked and ignored",
  TW,
  async () => {
    const offer = await makeOffer();
    const lax = await startTestEmulator({ translationCallModelQuery: "accept" });
    try {
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
      await lax.close();
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

Deno.test("translation calls: the session-duration limit ends a call", TW, async () => {
  const emu = await startTestEmulator({ sessionMaxSeconds: 4 });
  let client: WeriftCall | null = null;
  try {
    client = await connectWeriftCall(emu, { path: CALLS });
    const c = client;
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
});

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

Deno.test("translation socket: session expiry → session_expired, close 1001", async () => {
  const emu = await startTestEmulator({ sessionMaxSeconds: 1 });
  try {
    const s = await translationSocket(emu);
    const closed = await s.closed;
    assert.equal(closed.code, 1001);
    assert.equal(closed.reason, "invalid_request_error.session_expired");
    const err = s.events.find((e) => e.type === "error")!;
    assert.equal(err.error.code, "session_expired");
    assert.match(err.error.message, /maximum duration of 1 seconds/);
  } finally {
    await emu.close();
  }
});

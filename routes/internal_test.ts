import assert from "node:assert/strict";
import { createTestPeer, postJson, startTestApp, waitFor } from "../testing/server.ts";
import { appendAudio, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";

Deno.test("/internal requires the internal secret and validates its input", async () => {
  const t = await startTestApp();
  try {
    const path = "/internal/sideband/rtc_abc";
    const body = { sessionId: "nope" };
    let r = await postJson(t.baseUrl, path, body);
    assert.deepEqual([r.status, r.json.error.code], [403, "forbidden"]);
    r = await postJson(t.baseUrl, path, body, {
      "x-internal-secret": "wrong-secret-0123456789",
    });
    assert.equal(r.status, 403);
    const secret = { "x-internal-secret": t.deps.config.internalSecret };
    r = await postJson(t.baseUrl, "/internal/sideband/rtc_a$b", body, secret);
    assert.deepEqual([r.status, r.json.error.code], [400, "invalid_call_id"]);
    r = await postJson(t.baseUrl, path, {}, secret);
    assert.equal(r.status, 400);
    r = await postJson(t.baseUrl, path, body, secret);
    assert.deepEqual([r.status, r.json.error.code], [404, "session_not_found"]);
    assert.doesNotMatch(
      JSON.stringify(r.json),
      new RegExp(t.deps.config.internalSecret),
    );
    assert.equal(t.sidebands.list().length, 0);
  } finally {
    await t.close();
  }
});

Deno.test({
  name: "with a platform request limit the sideband rotates to a new request and keeps recording",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const t = await startTestApp({
      env: { PLATFORM_REQUEST_LIMIT_SECONDS: "5" },
    });
    const peer = await createTestPeer();
    try {
      // A server-VAD model: the audio below ends its turn by silence, with no page to commit it.
      const s = (await postJson(t.baseUrl, "/api/session", { model: "gpt-transcribe" })).json;
      const res = await fetch(s.realtimeUrl, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${s.ephemeralKey}`,
          "Content-Type": "application/sdp",
        },
        body: peer.offer,
      });
      await peer.answer(await res.text());
      const callId = res.headers.get("location")!.split("/").pop()!;
      await postJson(t.baseUrl, `/api/calls/${callId}/sideband`, {
        ticket: s.ticket,
      });
      type View = { sidebands: string[]; state: string };
      const view = () => t.emulator.control.calls()[0] as unknown as View;
      const first = await waitFor(() => view().sidebands[0]);
      // rotationDelayMs(5) = 3.75 s: a new sideband replaces the first one.
      await waitFor(
        () => view().sidebands.length === 1 && view().sidebands[0] !== first,
        { timeoutMs: 10_000, message: "sideband rotated" },
      );
      assert.equal((await t.store.getSession(s.sessionId))?.status, "live");
      assert.ok(
        t.logs.some((l) => l.message.startsWith("Rotating the sideband")),
      );
      // Speech after the rotation is still recorded by the new sideband.
      t.emulator.control.queueTranscripts(["after the rotation"]);
      const speaker = new EventSocket(wsUrl(t.emulator, `call_id=${callId}`), {
        headers: { Authorization: `Bearer ${t.emulator.apiKey}` },
      });
      await speaker.opened;
      appendAudio(speaker, silence(300));
      appendAudio(speaker, tone(800));
      appendAudio(speaker, silence(1200));
      await waitFor(
        async () =>
          (await t.store.listUtterances(s.sessionId)).some((u) =>
            u.status === "final" && u.text === "after the rotation"
          ),
        { message: "utterance recorded after rotation" },
      );
      await speaker.close();
      const h = await postJson(t.baseUrl, `/api/calls/${callId}/hangup`, {
        ticket: s.ticket,
      });
      assert.equal(h.status, 200);
      await waitFor(async () => (await t.store.getSession(s.sessionId))?.status === "ended");
      assert.equal(
        (await t.store.getSession(s.sessionId))?.endReason,
        "hangup",
      );
    } finally {
      await peer.close();
      await t.close();
    }
  },
});

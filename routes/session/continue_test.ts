import assert from "node:assert/strict";
import { createRawCall, makeOffer } from "../../emulator/testkit.ts";
import { createTestPeer, postJson, waitFor } from "../../testing/server.ts";
import { openSpeaker, startResilientApp } from "../../testing/resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...T,
  name:
    "POST /api/session/:id/continue puts the same stored session on a new call; the old call's end leaves it live",
  fn: async () => {
    const app = await startResilientApp();
    const peer = await createTestPeer();
    let offer2: Awaited<ReturnType<typeof makeOffer>> | null = null;
    try {
      const base = app.baseUrl;
      const minted = await postJson(base, "/api/session", {});
      const { sessionId, ticket, ephemeralKey } = minted.json;
      const other = (await postJson(base, "/api/session", {})).json;
      const relay = await postJson(base, "/api/calls", { ticket, sdp: peer.offer });
      assert.equal(relay.status, 201);
      const call1: string = relay.json.callId;
      await peer.answer(relay.json.sdp);
      await waitFor(async () => (await app.store.getSession(sessionId))?.status === "live");
      const speaker1 = await openSpeaker(app.emulator, call1);
      await speaker1.say("on the first call");
      await speaker1.close();

      // Refusals change nothing.
      const path = `/api/session/${sessionId}/continue`;
      const refused = [
        [await postJson(base, path, { ticket: "nope" }), 401, "invalid_ticket"],
        [await postJson(base, path, { ticket: other.ticket }), 403, "ticket_mismatch"],
        [await postJson(base, path, { ticket: 42 }), 400, "invalid_request"],
        [await postJson(base, path, "{"), 400, "invalid_json"],
        [await postJson(base, "/api/session/bad!/continue", { ticket }), 400, "invalid_session_id"],
      ] as const;
      for (const [res, status, code] of refused) {
        assert.equal(res.status, status, JSON.stringify(res.json));
        assert.equal(res.json.error.code, code);
      }
      let row = await app.store.getSession(sessionId);
      assert.equal(row?.callId, call1);
      assert.equal(row?.status, "live");

      // Continue: a new key for the same session, released from its call.
      const cont = await postJson(base, path, { ticket });
      assert.equal(cont.status, 200, JSON.stringify(cont.json));
      assert.equal(cont.json.sessionId, sessionId);
      assert.equal(cont.json.continued, true);
      assert.match(cont.json.ephemeralKey, /^ek_/);
      assert.notEqual(cont.json.ephemeralKey, ephemeralKey);
      assert.ok(!JSON.stringify(cont.json).includes(app.emulator.apiKey));
      row = await app.store.getSession(sessionId);
      assert.equal(row?.callId, null);

      // The page creates call 2 with the new key and attaches the server to it.
      offer2 = await makeOffer();
      const created = await createRawCall(app.emulator, offer2.sdp, cont.json.ephemeralKey);
      assert.equal(created.res.status, 201);
      const call2 = created.callId!;
      const attach = await postJson(base, `/api/calls/${call2}/sideband`, { ticket });
      assert.equal(attach.status, 202, JSON.stringify(attach.json));
      await waitFor(async () => (await app.store.getSession(sessionId))?.callId === call2);
      await waitFor(async () => (await app.store.getSession(sessionId))?.status === "live");

      // The old call ends (the page let it go): the session stays live on call 2.
      const hang = await fetch(`${app.emulator.baseUrl}/v1/realtime/calls/${call1}/hangup`, {
        method: "POST",
        headers: { authorization: `Bearer ${app.emulator.apiKey}` },
      });
      assert.equal(hang.status, 200);
      await hang.body?.cancel();
      await waitFor(() => app.sidebands.get(call1) === undefined, {
        message: "old sideband ended",
      });
      row = await app.store.getSession(sessionId);
      assert.equal(row?.status, "live", `ended by the old call: ${row?.endReason}`);

      const speaker2 = await openSpeaker(app.emulator, call2);
      await speaker2.say("on the second call");
      await speaker2.close();
      const texts = await waitFor(async () => {
        const list = (await app.store.listUtterances(sessionId)).map((u) => u.text);
        return list.includes("on the second call") ? list : null;
      });
      assert.ok(texts.includes("on the first call"), texts.join());
      assert.equal((await app.store.listSessions({ limit: 10 })).sessions.length, 2);

      // A session the server ended at its maximum duration cannot be continued.
      await app.store.updateSession(sessionId, {
        status: "ended",
        endedAt: Date.now(),
        endReason: "max_duration",
      });
      const late = await postJson(base, path, { ticket });
      assert.equal(late.status, 409);
      assert.equal(late.json.error.code, "session_ended");
    } finally {
      await offer2?.close();
      await peer.close();
      await app.close();
    }
  },
});

Deno.test({
  // The calls of the tests above leave werift timers running.
  ...T,
  name: "continuations count against the per-minute mint limits, and a refused one mints nothing",
  fn: async () => {
    const { startTestApp } = await import("../../testing/server.ts");
    const { insideOneWindow } = await import("../../testing/clock.ts");
    const app = await startTestApp({ env: { RATE_MINTS_PER_MINUTE_PER_IP: "3" } });
    try {
      await insideOneWindow();
      const { sessionId, ticket } = (await postJson(app.baseUrl, "/api/session", {})).json;
      const path = `/api/session/${sessionId}/continue`;
      assert.equal((await postJson(app.baseUrl, path, { ticket })).status, 200);
      assert.equal((await postJson(app.baseUrl, path, { ticket })).status, 200);
      const keys = app.emulator.control.state.secrets.size;
      assert.equal(keys, 3);
      const refused = await postJson(app.baseUrl, path, { ticket });
      assert.equal(refused.status, 429, JSON.stringify(refused.json));
      assert.equal(refused.json.error.code, "rate_limited");
      assert.equal(app.emulator.control.state.secrets.size, keys, "no key minted");
      // The session itself is untouched by the refusal.
      assert.equal((await app.store.getSession(sessionId))?.status, "pending");
    } finally {
      await app.close();
    }
  },
});

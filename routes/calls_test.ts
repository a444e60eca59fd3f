import assert from "node:assert/strict";
import {
  countSessions,
  createTestPeer,
  postJson,
  startTestApp,
  type TestApp,
  waitFor,
} from "../testing/server.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

async function mint(t: TestApp, body: unknown = {}) {
  const r = await postJson(t.baseUrl, "/api/session", body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as {
    sessionId: string;
    ticket: string;
    ephemeralKey: string;
    realtimeUrl: string;
  };
}

type CallView = { id: string; state: string; sidebands: string[] };
const calls = (t: TestApp) => t.emulator.control.calls() as unknown as CallView[];

/** The browser's direct path: SDP to OpenAI with the ephemeral key, call id from Location. */
async function directCall(
  session: { ephemeralKey: string; realtimeUrl: string },
) {
  const peer = await createTestPeer();
  const res = await fetch(session.realtimeUrl, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${session.ephemeralKey}`,
      "Content-Type": "application/sdp",
    },
    body: peer.offer,
  });
  assert.equal(res.status, 201);
  await peer.answer(await res.text());
  const callId = res.headers.get("location")!.split("/").pop()!;
  return { peer, callId };
}

Deno.test({
  ...T,
  name: "sideband + hangup: the server attaches to the browser's call and Stop hangs it up",
  fn: async () => {
    const t = await startTestApp();
    try {
      const s = await mint(t);
      const { peer, callId } = await directCall(s);
      try {
        const r = await postJson(t.baseUrl, `/api/calls/${callId}/sideband`, {
          ticket: s.ticket,
        });
        assert.equal(r.status, 202);
        assert.deepEqual(r.json, {
          sessionId: s.sessionId,
          callId,
          sideband: "starting",
        });
        await waitFor(async () => (await t.store.getSession(s.sessionId))?.status === "live");
        await waitFor(() => calls(t)[0]?.sidebands.length === 1, {
          message: "sideband attached",
        });
        assert.equal((await t.store.getSession(s.sessionId))?.callId, callId);
        assert.equal(t.sidebands.get(callId)?.sessionId, s.sessionId);

        const again = await postJson(
          t.baseUrl,
          `/api/calls/${callId}/sideband`,
          { ticket: s.ticket },
        );
        assert.equal(again.status, 202);
        assert.equal(again.json.sideband, "running");
        assert.equal(calls(t)[0].sidebands.length, 1, "still one sideband");

        const h = await postJson(t.baseUrl, `/api/calls/${callId}/hangup`, {
          ticket: s.ticket,
        });
        assert.equal(h.status, 200);
        assert.equal(h.json.hungUp, true);
        await waitFor(async () => (await t.store.getSession(s.sessionId))?.status === "ended");
        assert.equal(
          (await t.store.getSession(s.sessionId))?.endReason,
          "hangup",
        );
        assert.equal(calls(t)[0].state, "ended");
        // Hanging up an ended call is harmless.
        const h2 = await postJson(t.baseUrl, `/api/calls/${callId}/hangup`, {
          ticket: s.ticket,
        });
        assert.deepEqual([h2.status, h2.json.hungUp], [200, false]);
      } finally {
        await peer.close();
      }
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name: "sideband/hangup reject bad call ids, tickets and other sessions' calls, changing nothing",
  fn: async () => {
    const t = await startTestApp();
    try {
      const a = await mint(t);
      const b = await mint(t);
      const { peer, callId } = await directCall(a);
      try {
        const bad: Array<[string, unknown, number, string]> = [
          [
            "/api/calls/rtc_bad-id/sideband",
            { ticket: a.ticket },
            400,
            "invalid_call_id",
          ],
          [
            "/api/calls/not_a_call/hangup",
            { ticket: a.ticket },
            400,
            "invalid_call_id",
          ],
          [`/api/calls/${callId}/sideband`, {}, 400, "invalid_request"],
          [
            `/api/calls/${callId}/sideband`,
            { ticket: "forged.ticket" },
            401,
            "invalid_ticket",
          ],
          [
            `/api/calls/${callId}/sideband`,
            { ticket: a.ticket.slice(0, -3) + "AAA" },
            401,
            "invalid_ticket",
          ],
        ];
        for (const [path, body, status, code] of bad) {
          const r = await postJson(t.baseUrl, path, body);
          assert.deepEqual([r.status, r.json.error.code], [status, code], path);
        }
        assert.equal((await t.store.getSession(a.sessionId))?.callId, null);
        assert.equal(calls(t)[0].sidebands.length, 0);
        assert.equal(calls(t)[0].state, "active");

        const ok = await postJson(t.baseUrl, `/api/calls/${callId}/sideband`, {
          ticket: a.ticket,
        });
        assert.equal(ok.status, 202);
        // B's ticket cannot take over A's call.
        const steal = await postJson(
          t.baseUrl,
          `/api/calls/${callId}/sideband`,
          { ticket: b.ticket },
        );
        assert.deepEqual([steal.status, steal.json.error.code], [
          409,
          "call_mismatch",
        ]);
        const stealHang = await postJson(
          t.baseUrl,
          `/api/calls/${callId}/hangup`,
          { ticket: b.ticket },
        );
        assert.equal(stealHang.status, 409);
        assert.equal((await t.store.getSession(b.sessionId))?.callId, null);
        assert.equal(calls(t)[0].state, "active");
      } finally {
        await peer.close();
      }
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name: "POST /api/calls relays the SDP (Location-hidden fallback) and starts the sideband",
  fn: async () => {
    const t = await startTestApp();
    const peer = await createTestPeer();
    try {
      const s = await mint(t);
      const r = await postJson(t.baseUrl, "/api/calls", {
        sdp: peer.offer,
        ticket: s.ticket,
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.match(r.json.callId, /^rtc_/);
      assert.match(r.json.sdp, /^v=0/);
      await peer.answer(r.json.sdp);
      assert.equal(
        (await t.store.getSession(s.sessionId))?.callId,
        r.json.callId,
      );
      await waitFor(() => calls(t)[0]?.sidebands.length === 1, {
        message: "sideband attached",
      });
      await waitFor(async () => (await t.store.getSession(s.sessionId))?.status === "live");
      // One call per session.
      const again = await postJson(t.baseUrl, "/api/calls", {
        sdp: peer.offer,
        ticket: s.ticket,
      });
      assert.deepEqual([again.status, again.json.error.code], [
        409,
        "call_exists",
      ]);
      assert.equal(calls(t).length, 1);
    } finally {
      await peer.close();
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name:
    "POST /api/calls rejects bad SDP, bad tickets and upstream failures without creating anything",
  fn: async () => {
    const t = await startTestApp();
    const peer = await createTestPeer();
    try {
      const s = await mint(t);
      const cases: Array<[unknown, number, string]> = [
        [{ sdp: "hello", ticket: s.ticket }, 400, "invalid_request"],
        [{ sdp: peer.offer }, 400, "invalid_request"],
        [{ sdp: peer.offer, ticket: "x.y" }, 401, "invalid_ticket"],
      ];
      for (const [body, status, code] of cases) {
        const r = await postJson(t.baseUrl, "/api/calls", body);
        assert.deepEqual([r.status, r.json.error.code], [status, code]);
      }
      t.emulator.control.failRest({
        endpoint: "calls",
        status: 400,
        count: 1,
        body: "openai_empty_400",
      });
      const up = await postJson(t.baseUrl, "/api/calls", {
        sdp: peer.offer,
        ticket: s.ticket,
      });
      assert.deepEqual([up.status, up.json.error.upstreamStatus], [502, 400]);
      // A single 503 is retried (lib/retry.ts); two make it persistent.
      t.emulator.control.failRest({ endpoint: "calls", status: 503, count: 2 });
      const up5 = await postJson(t.baseUrl, "/api/calls", {
        sdp: peer.offer,
        ticket: s.ticket,
      });
      // Unavailable stays unavailable (503, with when to try again), not a 502.
      assert.deepEqual([up5.status, up5.json.error.upstreamStatus], [503, 503]);
      assert.ok(Number(up5.headers.get("retry-after")) > 0);
      assert.equal(calls(t).length, 0);
      assert.equal((await t.store.getSession(s.sessionId))?.callId, null);
      assert.equal(await countSessions(t.store), 1);
    } finally {
      await peer.close();
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name: "Stop before the sideband attached still hangs the call up and ends the session",
  fn: async () => {
    const t = await startTestApp();
    try {
      const s = await mint(t);
      const { peer, callId } = await directCall(s);
      try {
        // The sideband route never ran (say it failed): the session has no call id yet.
        assert.equal((await t.store.getSession(s.sessionId))?.callId, null);
        const r = await postJson(t.baseUrl, `/api/calls/${callId}/hangup`, { ticket: s.ticket });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(r.json, { sessionId: s.sessionId, callId, hungUp: true });
        const row = await t.store.getSession(s.sessionId);
        assert.equal(row?.callId, callId);
        assert.equal(row?.status, "ended");
        assert.equal(row?.endReason, "hangup");
        assert.notEqual(calls(t).find((c) => c.id === callId)?.state, "active");
        // Another session's ticket still cannot hang up a call it does not own.
        const other = await mint(t);
        const steal = await postJson(t.baseUrl, `/api/calls/${callId}/hangup`, {
          ticket: other.ticket,
        });
        assert.deepEqual([steal.status, steal.json.error.code], [409, "call_mismatch"]);
      } finally {
        await peer.close();
      }
    } finally {
      await t.close();
    }
  },
});

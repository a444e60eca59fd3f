/**
 * `SIGNALING=relay` over loopback HTTP against the emulator: no ephemeral key is ever minted, every
 * call is created by the server's relay (`POST /api/calls`) and gets its sideband, continuations
 * work without a key, and the mint limits still count each session. Also the relay's start-by time
 * (both modes): a session that never had a call may start one only within
 * `EPHEMERAL_KEY_TTL_SECONDS` of its creation, like a key.
 */
import assert from "node:assert/strict";
import { openStore } from "../lib/store/mod.ts";
import { createTicket } from "../lib/ticket.ts";
import {
  createTestPeer,
  postJson,
  startTestApp,
  type TestApp,
  type TestPeer,
  waitFor,
} from "../testing/server.ts";
import { openSpeaker } from "../testing/resilience_kit.ts";
import { insideOneWindow } from "../testing/clock.ts";

// werift (the test peers) keeps timers and crypto handles past close().
const T = { sanitizeResources: false, sanitizeOps: false };
const RELAY = { SIGNALING: "relay" };

/** Client secrets the emulator has minted so far. */
const secretsMinted = (t: TestApp) => t.emulator.control.state.secrets.size;

/**
 * Relays the offer of `peer` (default: a new one, pushed to `peers` for clean-up) for `ticket`, and
 * applies the answer when the call was created.
 */
async function relay(t: TestApp, ticket: string, peers: TestPeer[], peer?: TestPeer) {
  if (!peer) {
    peer = await createTestPeer();
    peers.push(peer);
  }
  const res = await postJson(t.baseUrl, "/api/calls", { ticket, sdp: peer.offer });
  if (res.status === 201) await peer.answer(res.json.sdp);
  return res;
}

// First: werift's leftover timers from the call tests would trip this test's leak checks.
Deno.test("SIGNALING=relay: keyless sessions and continuations still count against the mint limits", async () => {
  const rate = await startTestApp({ env: { ...RELAY, RATE_MINTS_PER_MINUTE_PER_IP: "3" } });
  try {
    await insideOneWindow();
    const first = await postJson(rate.baseUrl, "/api/session", {});
    assert.equal(first.status, 200);
    assert.equal(first.json.ephemeralKey, null);
    const path = `/api/session/${first.json.sessionId}/continue`;
    const cont = await postJson(rate.baseUrl, path, { ticket: first.json.ticket });
    assert.equal(cont.status, 200, JSON.stringify(cont.json));
    assert.equal(cont.json.ephemeralKey, null);
    assert.equal((await postJson(rate.baseUrl, "/api/session", {})).status, 200);
    // The fourth in this minute, whichever route: refused, and nothing is recorded for it.
    const refused = await postJson(rate.baseUrl, "/api/session", {});
    assert.equal(refused.status, 429, JSON.stringify(refused.json));
    assert.equal(refused.json.error.code, "rate_limited");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    const refusedCont = await postJson(rate.baseUrl, path, { ticket: first.json.ticket });
    assert.equal(refusedCont.status, 429);
    assert.equal((await rate.store.listSessions({ limit: 10 })).sessions.length, 2);
    assert.equal(secretsMinted(rate), 0);
  } finally {
    await rate.close();
  }
  // A keyless session that may still start its call holds a concurrency slot, like a key.
  const busy = await startTestApp({ env: { ...RELAY, MAX_CONCURRENT_SESSIONS: "1" } });
  try {
    const first = await postJson(busy.baseUrl, "/api/session", {});
    assert.equal(first.status, 200);
    assert.equal(first.json.ephemeralKey, null);
    const second = await postJson(busy.baseUrl, "/api/session", {});
    assert.equal(second.status, 429, JSON.stringify(second.json));
    assert.equal(second.json.error.code, "too_many_sessions");
    assert.equal((await busy.store.listSessions({ limit: 10 })).sessions.length, 1);
    assert.equal(secretsMinted(busy), 0);
  } finally {
    await busy.close();
  }
});

Deno.test({
  ...T,
  name:
    "SIGNALING=relay: POST /api/session mints no key, the relayed call gets its sideband, and continuing needs no key either",
  fn: async () => {
    const t = await startTestApp({ env: { ...RELAY, EPHEMERAL_KEY_TTL_SECONDS: "45" } });
    const peers: TestPeer[] = [];
    try {
      const before = Date.now();
      // A server-VAD model: the Speaker below ends its turns by silence.
      const minted = await postJson(t.baseUrl, "/api/session", {
        model: "gpt-transcribe",
        language: "en",
      });
      assert.equal(minted.status, 200, JSON.stringify(minted.json));
      const { sessionId, ticket } = minted.json;
      // Same shape as a direct answer, without anything that could start a call elsewhere.
      assert.equal(minted.json.ephemeralKey, null);
      assert.equal(minted.json.realtimeUrl, null);
      assert.equal(minted.json.clientCommits, false);
      assert.equal(minted.json.model, "gpt-transcribe");
      assert.equal(minted.json.settings.language, "en");
      assert.equal(minted.headers.get("cache-control"), "no-store");
      // expiresAt is the start-by time: creation + EPHEMERAL_KEY_TTL_SECONDS, in unix seconds.
      const expected = Math.floor(before / 1000) + 45;
      assert.ok(
        minted.json.expiresAt >= expected && minted.json.expiresAt <= expected + 1,
        `expiresAt ${minted.json.expiresAt}, expected about ${expected}`,
      );
      assert.equal(secretsMinted(t), 0, "no client secret minted");
      assert.equal((await t.store.getSession(sessionId))?.status, "pending");

      // The only way in: the server relays the offer, binds the call and attaches its sideband.
      const first = await relay(t, ticket, peers);
      assert.equal(first.status, 201, JSON.stringify(first.json));
      const call1: string = first.json.callId;
      assert.match(call1, /^rtc_/);
      await waitFor(async () => (await t.store.getSession(sessionId))?.status === "live", {
        message: "sideband attached to the relayed call",
      });
      assert.equal((await t.store.getSession(sessionId))?.callId, call1);
      assert.ok(t.sidebands.get(call1), "the server runs the call's sideband");
      const speaker = await openSpeaker(t.emulator, call1);
      await speaker.say("heard through the relay");
      await speaker.close();
      await waitFor(
        async () =>
          (await t.store.listUtterances(sessionId)).some((u) =>
            u.text === "heard through the relay"
          ),
        { message: "the sideband recorded the utterance" },
      );

      // Continuing: no key either, and the next call goes through the relay like the first.
      const cont = await postJson(t.baseUrl, `/api/session/${sessionId}/continue`, { ticket });
      assert.equal(cont.status, 200, JSON.stringify(cont.json));
      assert.equal(cont.json.continued, true);
      assert.equal(cont.json.sessionId, sessionId);
      assert.equal(cont.json.ephemeralKey, null);
      assert.equal(cont.json.realtimeUrl, null);
      assert.ok(cont.json.remainingSeconds > 800);
      assert.equal((await t.store.getSession(sessionId))?.callId, null);
      const second = await relay(t, ticket, peers);
      assert.equal(second.status, 201, JSON.stringify(second.json));
      const call2: string = second.json.callId;
      assert.notEqual(call2, call1);
      await waitFor(async () => {
        const row = await t.store.getSession(sessionId);
        return row?.callId === call2 && row.status === "live";
      }, { message: "the session moved to the second relayed call" });
      assert.ok(t.sidebands.get(call2));
      assert.equal(secretsMinted(t), 0, "still no client secret minted");
    } finally {
      for (const p of peers) await p.close();
      await t.close();
    }
  },
});

for (const mode of ["direct", "relay"] as const) {
  Deno.test({
    ...T,
    name:
      `SIGNALING=${mode}: a session that never had a call cannot start one after its start-by time (relay or continuation); one that ran can`,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "signaling_" });
      const databaseUrl = `file:${dir}/app.db`;
      const t = await startTestApp({
        databaseUrl,
        env: { SIGNALING: mode, EPHEMERAL_KEY_TTL_SECONDS: "60" },
      });
      const peers: TestPeer[] = [];
      try {
        // A fresh session starts within its start-by time: its settings are reused below.
        const fresh = await postJson(t.baseUrl, "/api/session", {});
        assert.equal(fresh.status, 200, JSON.stringify(fresh.json));
        // Two rows created 65 s ago (the start-by time is 60 s here) through a second store
        // on the same file with a past clock, closed before the app writes again.
        const past = await openStore(t.deps.config, {
          url: databaseUrl,
          now: () => Date.now() - 65_000,
        });
        const newRow = () =>
          past.createSession({
            source: "webrtc",
            model: "gpt-transcribe",
            settings: fresh.json.settings,
          });
        const stale = await newRow(); // never started
        const ran = await newRow(); // ran, and is continuing on a new call
        await past.updateSession(ran.id, { startedAt: ran.createdAt });
        await past.close();
        const ticketFor = (id: string) =>
          createTicket(id, { secret: t.deps.config.signingSecret, ttlSeconds: 3600 });

        // Never started, 65 s old: refused with a clear message, and nothing changes. (The refused
        // offer is relayed for another session below: a werift peer left unanswered slows the
        // emulator's later calls in this process by seconds.)
        const staleTicket = await ticketFor(stale.id);
        const secrets = secretsMinted(t);
        const peer = await createTestPeer();
        peers.push(peer);
        const refused = await relay(t, staleTicket, peers, peer);
        assert.equal(refused.status, 409, JSON.stringify(refused.json));
        assert.equal(refused.json.error.code, "session_start_expired");
        assert.match(refused.json.error.message, /not started within 60 s: start again/);
        // A continuation would mark it started and so exempt it: refused the same way.
        const cont = await postJson(t.baseUrl, `/api/session/${stale.id}/continue`, {
          ticket: staleTicket,
        });
        assert.equal(cont.status, 409, JSON.stringify(cont.json));
        assert.equal(cont.json.error.code, "session_start_expired");
        assert.deepEqual(await t.store.getSession(stale.id), stale, "the row is unchanged");
        assert.equal(t.emulator.control.calls().length, 0, "no call was created");
        assert.equal(secretsMinted(t), secrets, "no key was minted");

        // A session that already ran (startedAt set) is not held to it.
        const ranRelay = await relay(t, await ticketFor(ran.id), peers, peer);
        assert.equal(ranRelay.status, 201, JSON.stringify(ranRelay.json));
        assert.equal((await t.store.getSession(ran.id))?.callId, ranRelay.json.callId);

        // Within its start-by time a session relays as before.
        const freshRelay = await relay(t, fresh.json.ticket, peers);
        assert.equal(freshRelay.status, 201, JSON.stringify(freshRelay.json));
        await waitFor(async () =>
          (await t.store.getSession(fresh.json.sessionId))?.status === "live"
        );
      } finally {
        for (const p of peers) await p.close();
        await t.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  ...T,
  name: "SIGNALING=relay: the page may connect only to its own origin (CSP)",
  fn: async () => {
    for (const [env, allowed] of [[RELAY, false], [{}, true]] as const) {
      const t = await startTestApp({ env });
      try {
        const res = await fetch(`${t.baseUrl}/`);
        await res.body?.cancel();
        const connect = /connect-src ([^;]*)/.exec(
          res.headers.get("content-security-policy") ?? "",
        );
        assert.ok(connect, "a connect-src directive");
        assert.equal(connect[1].includes(new URL(t.emulator.baseUrl).origin), allowed, connect[1]);
        assert.match(connect[1], /'self'/);
      } finally {
        await t.close();
      }
    }
  },
});

/**
 * Attack: parallel mints racing the concurrency caps. The decision and the session row are one
 * atomic Store step, so however many mints arrive at once, exactly the cap is admitted — in both
 * signalling modes, per client and globally.
 */
import assert from "node:assert/strict";
import { postJson, startTestApp, type TestApp } from "./server.ts";
import { SIGNALING_MODES } from "../lib/config.ts";

/** Plenty of mints per minute: only the concurrency caps may refuse. */
const NO_RATE_LIMIT = { RATE_MINTS_PER_MINUTE_PER_IP: "10000", RATE_MINTS_PER_MINUTE: "100000" };

async function mintFrom(t: TestApp, ip: string): Promise<number> {
  const res = await fetch(`${t.baseUrl}/api/session`, {
    method: "POST",
    // On Val Town the first X-Forwarded-For hop is the client (lib/security/client_ip.ts).
    headers: { "Content-Type": "application/json", "X-Forwarded-For": ip },
    body: "{}",
  });
  await res.body?.cancel();
  return res.status;
}

async function storedSessions(t: TestApp): Promise<number> {
  return (await t.store.listSessions({ limit: 1000 })).sessions.length;
}

for (const signaling of SIGNALING_MODES) {
  Deno.test(`attack: 50 parallel mints from one client at a cap of 3 admit exactly 3 (${signaling})`, async () => {
    const t = await startTestApp({
      platform: "valtown",
      env: { ...NO_RATE_LIMIT, SIGNALING: signaling, MAX_CONCURRENT_SESSIONS_PER_IP: "3" },
    });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 50 }, () => mintFrom(t, "203.0.113.7")),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 3, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 429).length, 47);
      assert.equal(await storedSessions(t), 3, "only admitted sessions have a row");
    } finally {
      await t.close();
    }
  });

  Deno.test(`attack: 60 parallel mints from 20 clients at a global cap of 20 admit exactly 20 (${signaling})`, async () => {
    const t = await startTestApp({
      platform: "valtown",
      env: {
        ...NO_RATE_LIMIT,
        SIGNALING: signaling,
        MAX_CONCURRENT_SESSIONS_PER_IP: "3",
        MAX_CONCURRENT_SESSIONS: "20",
      },
    });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => mintFrom(t, `198.51.100.${i % 20 + 1}`)),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 20, JSON.stringify(statuses));
      assert.equal(await storedSessions(t), 20);
    } finally {
      await t.close();
    }
  });
}

for (const signaling of SIGNALING_MODES) {
  Deno.test(`attack: after a refusal, every admitted mint has its row (${signaling})`, async () => {
    const t = await startTestApp({
      env: { ...NO_RATE_LIMIT, SIGNALING: signaling, MAX_CONCURRENT_SESSIONS_PER_IP: "1" },
    });
    try {
      const first = await postJson(t.baseUrl, "/api/session", {});
      assert.equal(first.status, 200);
      // Refused: this process now decides before minting for this client.
      assert.equal((await postJson(t.baseUrl, "/api/session", {})).status, 429);
      await t.store.updateSession(first.json.sessionId, { status: "ended", endedAt: Date.now() });
      const next = await postJson(t.baseUrl, "/api/session", {});
      assert.equal(next.status, 200, JSON.stringify(next.json));
      assert.ok(await t.store.getSession(next.json.sessionId), "the admitted session has a row");
    } finally {
      await t.close();
    }
  });
}

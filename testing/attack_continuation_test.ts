/**
 * Attack: `POST /api/session/:id/continue` as a way around the spend caps. A continuation is a
 * new live call, so it is refused once today's minutes are spent, and at the concurrency cap it
 * hands out no key (the previous call of a rotating session keeps its own slot until it ends).
 */
import assert from "node:assert/strict";
import { postJson, startTestApp, type TestApp } from "./server.ts";
import { insideOneWindow } from "./clock.ts";
import { recordUsage } from "../lib/security/limits.ts";

async function mintLive(t: TestApp, n: number) {
  const res = await postJson(t.baseUrl, "/api/session", {});
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const { sessionId, ticket } = res.json;
  // As the sideband does once the call is up.
  await t.store.updateSession(sessionId, {
    callId: `rtc_attack${n}`,
    status: "live",
    startedAt: Date.now(),
  });
  return { sessionId, ticket };
}

function continueSession(t: TestApp, s: { sessionId: string; ticket: string }) {
  return postJson(t.baseUrl, `/api/session/${s.sessionId}/continue`, { ticket: s.ticket });
}

Deno.test("attack: after today's minutes are spent, a continuation is refused", async () => {
  const t = await startTestApp({ env: { DAILY_MINUTES: "1" } });
  try {
    await insideOneWindow();
    const s = await mintLive(t, 1);
    await recordUsage(t.store, { seconds: 60 });
    const res = await continueSession(t, s);
    assert.equal(res.status, 429, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "daily_budget_exhausted");
    assert.ok(Number(res.headers.get("retry-after")) > 0);
    assert.doesNotMatch(JSON.stringify(res.json), /ek_/);
    assert.equal((await t.store.getSession(s.sessionId))?.callId, "rtc_attack1", "not released");
  } finally {
    await t.close();
  }
});

Deno.test("attack: at the concurrency cap, continuations yield no fresh key", async () => {
  const t = await startTestApp({ env: { MAX_CONCURRENT_SESSIONS_PER_IP: "3" } });
  try {
    await insideOneWindow();
    const sessions = [await mintLive(t, 1), await mintLive(t, 2), await mintLive(t, 3)];
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await continueSession(t, sessions[i % 3]));
    for (const a of answers) {
      assert.equal(a.status, 429, JSON.stringify(a.json));
      assert.equal(a.json.error.code, "too_many_sessions");
      assert.doesNotMatch(JSON.stringify(a.json), /ek_/);
    }
  } finally {
    await t.close();
  }
});

Deno.test("attack: one rotating session cannot stack calls past the cap", async () => {
  const t = await startTestApp({ env: { MAX_CONCURRENT_SESSIONS_PER_IP: "3" } });
  try {
    await insideOneWindow();
    const s = await mintLive(t, 1);
    const keys: string[] = [];
    for (let i = 2; i < 8; i++) {
      const res = await continueSession(t, s);
      if (res.status !== 200) {
        assert.equal(res.json.error.code, "too_many_sessions");
        continue;
      }
      keys.push(res.json.ephemeralKey);
      // Each new call comes up (its sideband binds it) while the previous one keeps running.
      await t.store.updateSession(s.sessionId, {
        callId: `rtc_attack${i}`,
        status: "live",
      });
    }
    // The session's call and two earlier ones still running: three calls, the cap.
    assert.equal(keys.length, 2, `continuations admitted: ${keys.length}`);
  } finally {
    await t.close();
  }
});

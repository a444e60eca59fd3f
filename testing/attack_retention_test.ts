/**
 * Attack: pushing other people's transcripts out of retention. Started sessions and never-started
 * ones are ranked apart, one client's share of the started ones is bounded, and never-started
 * rows go soon after their start-by time: a flood of mints (pre-mints that never start, and
 * sessions ended at once) from one client never deletes another client's ended transcript.
 */
import assert from "node:assert/strict";
import { postJson, startTestApp } from "./server.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/mod.ts";

const ENV = {
  RETENTION_MAX_SESSIONS: "5",
  RETENTION_MAX_PER_CLIENT: "2",
  // A fast flood: only retention is under test here.
  RATE_MINTS_PER_MINUTE_PER_IP: "1000",
  RATE_MINTS_PER_MINUTE: "1000",
  MAX_CONCURRENT_SESSIONS_PER_IP: "1000",
  MAX_CONCURRENT_SESSIONS: "1000",
};

Deno.test("attack: a flood of mints from one client does not delete another client's ended transcript", async () => {
  const dir = await Deno.makeTempDir({ prefix: "attack_retention_" });
  const databaseUrl = `file:${dir}/app.db`;
  let victimId = "";
  const t = await startTestApp({ platform: "valtown", databaseUrl, env: ENV });
  try {
    const victim = await postJson(t.baseUrl, "/api/session", {}, {
      "X-Forwarded-For": "203.0.113.10",
    });
    victimId = victim.json.sessionId;
    // The victim's call ran and ended, with a transcript.
    await t.store.updateSession(victimId, {
      callId: "rtc_victim",
      status: "live",
      startedAt: Date.now() - 60_000,
    });
    await t.store.recordEvent(victimId, {
      type: "conversation.item.input_audio_transcription.completed",
      event_id: "event_v1",
      item_id: "item_v1",
      content_index: 0,
      transcript: "my bank PIN is 4321",
    });
    await t.store.updateSession(victimId, {
      status: "ended",
      endedAt: Date.now(),
      endReason: "hangup",
    });
    const attacker = { "X-Forwarded-For": "198.51.100.66" };
    // Pre-mints that never start a call…
    for (let i = 0; i < 20; i++) {
      assert.equal((await postJson(t.baseUrl, "/api/session", {}, attacker)).status, 200);
    }
    // …and sessions "started" and ended at once (a made-up call id, hung up).
    for (let i = 0; i < 10; i++) {
      const s = (await postJson(t.baseUrl, "/api/session", {}, attacker)).json;
      await postJson(t.baseUrl, `/api/calls/rtc_flood${i}/hangup`, { ticket: s.ticket }, attacker);
    }
  } finally {
    await t.close();
  }
  // Retention runs when a process starts (and after sessions end): a later cold start.
  const config = await loadConfig(ENV, { platform: "local" });
  const later = await openStore(config, { url: databaseUrl });
  try {
    assert.ok(await later.getSession(victimId), "the victim's ended session is kept");
    const [u] = await later.listUtterances(victimId);
    assert.equal(u?.text, "my bank PIN is 4321");
    const left = (await later.listSessions({ limit: 1000 })).sessions;
    assert.ok(left.length < 31, `the flood was pruned too: ${left.length} sessions left`);
  } finally {
    await later.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attack: never-started rows go minutes after their start-by time, not after 31 days", async () => {
  const dir = await Deno.makeTempDir({ prefix: "attack_retention_" });
  const url = `file:${dir}/app.db`;
  const config = await loadConfig({}, { platform: "local" });
  let now = Date.UTC(2026, 11, 1, 12);
  const store = await openStore(config, { url, now: () => now });
  const unstarted = await store.createSession({ source: "webrtc", model: "m", settings: {} });
  const started = await store.createSession({ source: "webrtc", model: "m", settings: {} });
  await store.updateSession(started.id, { callId: "rtc_started", status: "live", startedAt: now });
  await store.close();
  try {
    // Still within its start-by time plus the grace: kept.
    now += config.retention.unstartedKeepMs - 1000;
    const early = await openStore(config, { url, now: () => now });
    assert.ok(await early.getSession(unstarted.id));
    await early.close();
    now += 2000;
    const later = await openStore(config, { url, now: () => now });
    assert.equal(await later.getSession(unstarted.id), null);
    assert.ok(await later.getSession(started.id), "a started session is not touched");
    assert.ok(config.retention.unstartedKeepMs <= 10 * 60_000);
    await later.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { createClient } from "npm:@libsql/client@0.17.3";
import { loadConfig } from "../config.ts";
import { openStore } from "./mod.ts";
import { migrate, MIGRATIONS } from "./schema.ts";
import { tempDbUrl, utteranceEvents } from "./testdata/events.ts";

Deno.test("a later call's audio times are folded onto the session's clock; raw events are kept", async () => {
  let now = 1_000_000;
  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url: ":memory:", now: () => now });
  const { id } = await store.createSession({ source: "webrtc", model: "m", settings: {} });

  // Call 1 is bound (the sideband attach), speaks at 2 s of its audio.
  await store.updateSession(id, { callId: "rtc_one" });
  now += 500;
  await store.updateSession(id, { status: "live", startedAt: now, callId: "rtc_one" });
  for (const e of utteranceEvents("item_a", null, ["first", "call"], 2000)) {
    assert.ok(await store.recordEvent(id, e, { callId: "rtc_one" }));
  }
  // 61.5 s after call 1 was bound, the session is released and bound to call 2.
  now = 1_061_500;
  await store.updateSession(id, { callId: null, status: "pending" });
  await store.updateSession(id, { callId: "rtc_two" });
  assert.deepEqual(
    (await store.listCalls(id)).map((c) => [c.callId, c.attachedAt, c.offsetMs]),
    [["rtc_one", 1_000_000, 0], ["rtc_two", 1_061_500, 61_500]],
  );
  // Call 2's clock starts again at 0; call 1's sideband still drains a late line.
  now += 1000;
  const second = utteranceEvents("item_b", null, ["second", "call"], 300);
  const late = utteranceEvents("item_c", "item_a", ["late", "on", "one"], 4000);
  for (const e of [...second.slice(0, 2), ...late, ...second.slice(2)]) {
    const callId = e.event_id.startsWith("event_item_b") ? "rtc_two" : "rtc_one";
    assert.ok(await store.recordEvent(id, e, { callId }));
  }
  // The same events again through a rotated sideband: nothing changes.
  for (const e of second) assert.equal(await store.recordEvent(id, e, { callId: "rtc_two" }), null);

  const utts = await store.listUtterances(id);
  assert.deepEqual(utts.map((u) => [u.itemId, u.startMs, u.endMs]), [
    ["item_a", 2000, 2900],
    ["item_c", 4000, 4900],
    ["item_b", 61_800, 62_700],
  ]);
  // The event log keeps what the API said, and which call said it.
  const raw = (await store.listEvents(id)).filter((r) =>
    r.type === "input_audio_buffer.speech_started"
  );
  assert.deepEqual(raw.map((r) => [r.callId, r.event.audio_start_ms]), [
    ["rtc_one", 2000],
    ["rtc_two", 300],
    ["rtc_one", 4000],
  ]);

  // Rebinding a known call (a sideband re-opening) keeps its first offset.
  now += 60_000;
  await store.updateSession(id, { status: "live", callId: "rtc_two" });
  assert.equal((await store.listCalls(id)).at(-1)?.offsetMs, 61_500);

  // Gap repair posts session-relative times; the server's own times win where it has them.
  await store.mergeBrowserUtterances(id, [
    {
      itemId: "item_b",
      previousItemId: null,
      text: "second call.",
      startMs: 1,
      endMs: 2,
      confidence: null,
    },
    {
      itemId: "item_d",
      previousItemId: "item_b",
      text: "page only.",
      startMs: 64_000,
      endMs: 65_000,
      confidence: null,
    },
  ]);
  assert.deepEqual((await store.listUtterances(id)).map((u) => [u.itemId, u.startMs, u.seenBy]), [
    ["item_a", 2000, "server"],
    ["item_c", 4000, "server"],
    ["item_b", 61_800, "both"],
    ["item_d", 64_000, "browser"],
  ]);

  // Events recorded without a call, or from a call never bound to the session, are not moved.
  const { id: other } = await store.createSession({ source: "webrtc", model: "m", settings: {} });
  for (const e of utteranceEvents("item_x", null, ["x"], 700)) {
    await store.recordEvent(other, e, { callId: "rtc_unknown" });
  }
  assert.equal((await store.listUtterances(other))[0].startMs, 700);

  assert.equal(await store.deleteSession(id), true);
  assert.deepEqual(await store.listCalls(id), []);
  await store.close();
});

Deno.test("a session created with its call (SIP) has that call at offset 0", async () => {
  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url: ":memory:", now: () => 5_000 });
  const s = await store.createSession({
    source: "sip",
    model: "m",
    settings: {},
    callId: "rtc_sip",
  });
  assert.deepEqual(await store.listCalls(s.id), [
    { sessionId: s.id, callId: "rtc_sip", attachedAt: 5_000, offsetMs: 0 },
  ]);
  await store.close();
});

Deno.test("a store file from before session_calls upgrades: its bound call becomes the first", async () => {
  const { url, dir } = await tempDbUrl();
  await Deno.mkdir(`${dir}/nested`, { recursive: true });
  // Build the file as the previous release left it: migrations 1 and 2 only, with data.
  const client = createClient({ url });
  const executor = {
    execute: (stmt: { sql: string; args?: unknown[] }) => client.execute(stmt as never) as never,
  };
  const runAll = async (stmts: { sql: string; args?: unknown[] }[]) => {
    for (const s of stmts) await client.execute(s as never);
  };
  await migrate(executor, runAll, MIGRATIONS.filter((m) => m.version <= 2));
  // Recent times: opening the store prunes abandoned old sessions.
  const started = Date.now() - 20_000;
  await client.execute({
    sql: `INSERT INTO sessions (id, call_id, source, status, model, settings, created_at,
      started_at) VALUES ('sess_old_0000000000000000', 'rtc_old', 'webrtc', 'live', 'm', '{}', ?,
      ?)`,
    args: [started - 300, started],
  });
  await client.execute({
    sql: `INSERT INTO events (session_id, seq, event_id, type, event, received_at)
      VALUES ('sess_old_0000000000000000', 1, 'event_1', 'x', '{"type":"x"}', ?)`,
    args: [started + 50],
  });
  client.close();

  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url, now: () => started + 10_000 });
  const id = "sess_old_0000000000000000";
  assert.deepEqual(await store.listCalls(id), [
    { sessionId: id, callId: "rtc_old", attachedAt: started, offsetMs: 0 },
  ]);
  assert.equal((await store.listEvents(id))[0].callId, null, "old events have no call");
  // The session continues on a new call: 10 s after the old call's recorded start.
  await store.updateSession(id, { callId: null });
  await store.updateSession(id, { callId: "rtc_new" });
  for (const e of utteranceEvents("item_n", null, ["new"], 100)) {
    await store.recordEvent(id, e, { callId: "rtc_new" });
  }
  assert.equal((await store.listUtterances(id))[0].startMs, 10_100);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { openStore } from "./mod.ts";
import { newSession, open, tempDbUrl, utteranceEvents } from "./testdata/events.ts";

Deno.test("migrations are idempotent: opening the same file twice keeps one schema and the data", async () => {
  const { url, dir } = await tempDbUrl();
  const a = await open(url);
  const s = await a.createSession({
    source: "webrtc",
    model: "gpt-transcribe",
    settings: { x: 1 },
  });
  await a.migrate();
  await a.close();
  const b = await open(url);
  await b.migrate();
  const got = await b.getSession(s.id);
  assert.equal(got?.model, "gpt-transcribe");
  assert.deepEqual(got?.settings, { x: 1 });
  await b.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sessions: create, read by id and call id, update, page newest first, delete", async () => {
  let now = 1_000;
  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url: ":memory:", now: () => now });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    now += 10;
    ids.push(
      await newSession(store),
    );
  }
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  await store.updateSession(ids[1], {
    callId: "rtc_1",
    status: "live",
    startedAt: 5,
  });
  const live = await store.getSessionByCallId("rtc_1");
  assert.equal(live?.id, ids[1]);
  assert.equal(live?.status, "live");
  assert.equal(live?.startedAt, 5);
  assert.equal(live?.endedAt, null);

  const page1 = await store.listSessions({ limit: 2 });
  assert.deepEqual(page1.sessions.map((s) => s.id), [ids[4], ids[3]]);
  const page2 = await store.listSessions({
    limit: 2,
    cursor: page1.nextCursor,
  });
  assert.deepEqual(page2.sessions.map((s) => s.id), [ids[2], ids[1]]);
  const page3 = await store.listSessions({
    limit: 2,
    cursor: page2.nextCursor,
  });
  assert.deepEqual(page3.sessions.map((s) => s.id), [ids[0]]);
  assert.equal(page3.nextCursor, null);

  assert.equal(await store.deleteSession(ids[0]), true);
  assert.equal(await store.deleteSession(ids[0]), false);
  assert.equal(await store.getSession(ids[0]), null);
  await store.close();
});

Deno.test("recordEvent folds events into ordered utterances and ignores duplicates", async () => {
  const store = await open(":memory:");
  const id = await newSession(store);
  const first = utteranceEvents("item_A", null, ["hello", "there"], 100);
  const second = utteranceEvents("item_B", "item_A", ["second", "one"], 2000);
  // Second utterance's completed arrives before the first's (allowed by the protocol).
  const events = [...first.slice(0, 3), ...second, ...first.slice(3)];
  for (const e of events) assert.ok(await store.recordEvent(id, e), e.event_id);
  for (const e of events) assert.equal(await store.recordEvent(id, e), null);
  const rows = await store.listEvents(id);
  assert.deepEqual(rows.map((r) => r.seq), events.map((_, i) => i + 1));
  assert.deepEqual(rows.map((r) => r.eventId), events.map((e) => e.event_id));
  const utts = await store.listUtterances(id);
  assert.deepEqual(
    utts.map((u) => [u.itemId, u.status, u.text, u.startMs, u.seenBy]),
    [
      ["item_A", "final", "hello there.", 100, "server"],
      ["item_B", "final", "second one.", 2000, "server"],
    ],
  );
  assert.equal(utts[0].confidence, 1);
  assert.equal(
    (await store.listEvents(id, { afterSeq: 10 })).length,
    events.length - 10,
  );
  assert.equal(
    await store.recordEvent("no_such_session_000000000", events[0]),
    null,
  );
  await store.close();
});

Deno.test("the event log is bounded per session but utterances survive trimming", async () => {
  const store = await open(":memory:", 10);
  const id = await newSession(store);
  const events = [
    ...utteranceEvents("item_1", null, ["a", "b", "c", "d"]),
    ...utteranceEvents("item_2", "item_1", ["e", "f", "g", "h"], 1000),
    ...utteranceEvents("item_3", "item_2", ["i", "j"], 2000),
  ];
  for (const e of events) await store.recordEvent(id, e);
  const kept = await store.listEvents(id);
  assert.equal(kept.length, 10);
  assert.equal(kept[0].seq, events.length - 9);
  assert.equal(kept.at(-1)?.seq, events.length);
  const utts = await store.listUtterances(id);
  assert.deepEqual(utts.map((u) => u.text), ["a b c d.", "e f g h.", "i j."]);
  // A replay of a trimmed event is recorded again but cannot change a final utterance.
  await store.recordEvent(id, events[3]);
  assert.deepEqual((await store.listUtterances(id)).map((u) => u.text), [
    "a b c d.",
    "e f g h.",
    "i j.",
  ]);
  await store.close();
});

Deno.test("mergeBrowserUtterances adds browser-only finals and confirms shared ones, idempotently", async () => {
  const store = await open(":memory:");
  const id = await newSession(store);
  for (const e of utteranceEvents("item_1", null, ["one"])) {
    await store.recordEvent(id, e);
  }
  // The sideband dropped: item_2 is only partial on the server, item_3 never reached it.
  for (
    const e of utteranceEvents("item_2", "item_1", ["two"], 1000).slice(0, 4)
  ) {
    await store.recordEvent(id, e);
  }
  const browser = [
    {
      itemId: "item_1",
      previousItemId: null,
      text: "one.",
      startMs: 0,
      endMs: 900,
      confidence: 1,
    },
    {
      itemId: "item_2",
      previousItemId: "item_1",
      text: "two.",
      startMs: 1000,
      endMs: 1900,
      confidence: 0.5,
    },
    {
      itemId: "item_3",
      previousItemId: "item_2",
      text: "three.",
      startMs: 2000,
      endMs: 2900,
      confidence: null,
    },
  ];
  assert.deepEqual(await store.mergeBrowserUtterances(id, browser), {
    added: 2,
    confirmed: 1,
  });
  assert.deepEqual(await store.mergeBrowserUtterances(id, browser), {
    added: 0,
    confirmed: 0,
  });
  let utts = await store.listUtterances(id);
  assert.deepEqual(utts.map((u) => [u.itemId, u.status, u.text, u.seenBy]), [
    ["item_1", "final", "one.", "both"],
    ["item_2", "final", "two.", "browser"],
    ["item_3", "final", "three.", "browser"],
  ]);
  // The server's late completed for item_2 makes it seen by both.
  const late = utteranceEvents("item_2", "item_1", ["two"], 1000).at(-1)!;
  await store.recordEvent(id, late);
  utts = await store.listUtterances(id);
  assert.equal(utts[1].seenBy, "both");
  assert.deepEqual(
    await store.mergeBrowserUtterances("no_such_session_000000000", browser),
    { added: 0, confirmed: 0 },
  );
  await store.close();
});

Deno.test("mergeBrowserUtterances gives a page-committed turn the page's times", async () => {
  const store = await open(":memory:");
  const id = await newSession(store);
  // The page committed this turn: no speech_started / speech_stopped, so no server times.
  for (const e of utteranceEvents("item_P", null, ["page"]).slice(2)) {
    await store.recordEvent(id, e);
  }
  assert.deepEqual((await store.listUtterances(id)).map((u) => [u.startMs, u.endMs]), [
    [null, null],
  ]);
  const page = [{
    itemId: "item_P",
    previousItemId: null,
    text: "page.",
    startMs: 1200,
    endMs: 2500,
    confidence: 1,
  }];
  assert.deepEqual(await store.mergeBrowserUtterances(id, page), { added: 0, confirmed: 1 });
  const [u] = await store.listUtterances(id);
  assert.deepEqual([u.text, u.startMs, u.endMs, u.seenBy], ["page.", 1200, 2500, "both"]);
  await store.close();
});

Deno.test("prune deletes ended sessions past the age limit and beyond the count, with their data", async () => {
  const { url, dir } = await tempDbUrl();
  let now = 10 * 86_400_000;
  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url, now: () => now });
  const make = async (status: "ended" | "live", ageDays: number) => {
    now = 10 * 86_400_000 - ageDays * 86_400_000;
    const s = await store.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
    });
    await store.updateSession(s.id, { status });
    await store.recordEvent(s.id, utteranceEvents("item_1", null, ["x"])[0]);
    return s.id;
  };
  const oldEnded = await make("ended", 5);
  const oldLive = await make("live", 3.5); // may still be running: kept
  const recent = [
    await make("ended", 1.3),
    await make("ended", 1.2),
    await make("ended", 1.1),
  ];
  now = 10 * 86_400_000;
  assert.equal(await store.prune({ maxAgeMs: 3 * 86_400_000 }), 1);
  assert.equal(await store.getSession(oldEnded), null);
  assert.deepEqual(await store.listEvents(oldEnded), []);
  assert.deepEqual(await store.listUtterances(oldEnded), []);
  assert.ok(await store.getSession(oldLive));
  // Keep the newest two sessions; the live one is never removed by count.
  assert.equal(await store.prune({ maxCount: 2 }), 1);
  assert.equal(await store.getSession(recent[0]), null);
  assert.ok(await store.getSession(recent[1]));
  assert.ok(await store.getSession(oldLive));
  // Abandoned sessions (never ended) go a day after the age limit.
  assert.equal(
    await store.prune({ maxAgeMs: 2 * 86_400_000, now: now + 86_400_000 }),
    3,
  );
  assert.equal(await store.getSession(oldLive), null);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fixed-window counters are shared between stores and old windows are pruned", async () => {
  const { url, dir } = await tempDbUrl();
  const a = await open(url);
  const b = await open(url);
  const t0 = 60_000 * 1000;
  assert.equal(await a.incrementCounter("mint:ip", 60_000, 1, t0), 1);
  assert.equal(await b.incrementCounter("mint:ip", 60_000, 1, t0 + 59_999), 2);
  assert.equal(await a.incrementCounter("mint:ip", 60_000, 2.5, t0 + 10), 4.5);
  assert.equal(await a.readCounter("mint:ip", 60_000, t0 + 30_000), 4.5);
  assert.equal(
    await a.readCounter("mint:ip", 1000, t0),
    0,
    "other window size is another counter",
  );
  assert.equal(
    await b.incrementCounter("mint:ip", 60_000, 1, t0 + 60_000),
    1,
    "next window",
  );
  const parallel = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => (i % 2 ? a : b).incrementCounter("k", 1000, 1, t0),
    ),
  );
  assert.deepEqual(
    [...parallel].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  await a.prune({ now: t0 + 10 * 60_000 });
  assert.equal(await a.readCounter("mint:ip", 60_000, t0), 0);
  await a.close();
  await b.close();
  await Deno.remove(dir, { recursive: true });
});

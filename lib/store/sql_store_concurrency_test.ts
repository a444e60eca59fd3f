import assert from "node:assert/strict";
import type { Store } from "./types.ts";
import {
  mintTallyInput,
  newSession,
  open,
  releaseWhenReady,
  tempDbUrl,
  utteranceEvents,
} from "./testdata/events.ts";

Deno.test("two stores on one file recording the same events concurrently keep exactly one utterance each", async () => {
  const { url, dir } = await tempDbUrl();
  const a = await open(url);
  const b = await open(url);
  const id = await newSession(a);
  const items = ["item_1", "item_2", "item_3", "item_4"];
  const all = items.flatMap((item, i) =>
    utteranceEvents(item, i ? items[i - 1] : null, [
      `w${i}a`,
      `w${i}b`,
      `w${i}c`,
    ], i * 1000)
  );
  // A fifth utterance still streaming: its text is only the sum of its deltas (no completed).
  const partial = utteranceEvents("item_5", "item_4", [
    "p0",
    "p1",
    "p2",
    "p3",
    "p4",
  ], 4000);
  all.push(...partial.slice(0, -1));
  // Two sidebands receive the same stream in the same order and race on every event; a third
  // writer replays the whole stream (a reconnect). Their statements interleave at every await.
  const writer = (store: Store, events: typeof all) =>
    (async () => {
      for (const e of events) await store.recordEvent(id, e);
    })();
  await Promise.all([
    writer(a, all),
    writer(b, all),
    writer(b, all),
  ]);

  const events = await a.listEvents(id, { limit: 10_000 });
  assert.equal(events.length, all.length);
  assert.equal(new Set(events.map((e) => e.eventId)).size, all.length);
  assert.deepEqual(events.map((e) => e.seq), all.map((_, i) => i + 1));
  const utts = await b.listUtterances(id);
  assert.deepEqual(
    utts.map((
      u,
    ) => [u.itemId, u.previousItemId, u.status, u.text, u.startMs, u.endMs]),
    [
      ...items.map((item, i) => [
        item,
        i ? items[i - 1] : null,
        "final",
        `w${i}a w${i}b w${i}c.`,
        i * 1000,
        i * 1000 + 900,
      ]),
      ["item_5", "item_4", "partial", "p0 p1 p2 p3 p4", 4000, 4900],
    ],
  );
  await a.close();
  await b.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("three processes recording the same events into one file store each event once", async () => {
  const { url, dir } = await tempDbUrl();
  const store = await open(url);
  const id = await newSession(store);
  const items = Array.from({ length: 20 }, (_, i) => `item_${i}`);
  const all = items.flatMap((item, i) =>
    utteranceEvents(
      item,
      i ? items[i - 1] : null,
      [`a${i}`, `b${i}`, `c${i}`],
      i * 1000,
    )
  );
  const barrier = `${dir}/barrier`;
  await Deno.mkdir(barrier);
  const file = `${dir}/events.json`;
  await Deno.writeTextFile(file, JSON.stringify(all));
  const script = new URL("./testdata/record_events.ts", import.meta.url).pathname;
  const child = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", script, url, id, file, barrier],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const [c1, c2, own] = await Promise.all([
    child(),
    child(),
    (async () => {
      await releaseWhenReady(barrier, 2); // start together with both children
      let n = 0;
      for (const e of all) if (await store.recordEvent(id, e)) n++;
      return n;
    })(),
  ]);
  const counts = [c1, c2].map((c) => {
    assert.equal(c.code, 0, new TextDecoder().decode(c.stderr));
    return JSON.parse(new TextDecoder().decode(c.stdout)).recorded as number;
  });
  assert.equal(
    counts[0] + counts[1] + own,
    all.length,
    "every event recorded exactly once",
  );
  const events = await store.listEvents(id, { limit: 10_000 });
  assert.deepEqual(events.map((e) => e.seq), all.map((_, i) => i + 1));
  assert.deepEqual(
    new Set(events.map((e) => e.eventId)),
    new Set(all.map((e) => e.event_id)),
  );
  assert.deepEqual(
    (await store.listUtterances(id)).map((u) => [u.itemId, u.status, u.text]),
    items.map((item, i) => [item, "final", `a${i} b${i} c${i}.`]),
  );
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("concurrent writers folding different events of the same items lose no field", async () => {
  const { url, dir } = await tempDbUrl();
  const a = await open(url);
  const b = await open(url);
  const id = await newSession(a);
  const items = Array.from({ length: 12 }, (_, i) => `item_${i}`);
  const streams = items.map((item, i) =>
    utteranceEvents(item, i ? items[i - 1] : null, [], i * 100)
  );
  // One writer folds the VAD events, the other the commits, for the same items at the same time.
  const vad = streams.flatMap((s) => s.slice(0, 2));
  const commits = streams.flatMap((s) => s.slice(2, 3));
  await Promise.all([
    (async () => {
      for (const e of vad) await a.recordEvent(id, e);
    })(),
    (async () => {
      for (const e of commits) await b.recordEvent(id, e);
    })(),
  ]);
  const utts = await a.listUtterances(id);
  assert.deepEqual(
    utts.map((u) => [u.itemId, u.previousItemId, u.startMs, u.endMs]),
    items.map((
      item,
      i,
    ) => [item, i ? items[i - 1] : null, i * 100, i * 100 + 900]),
  );
  await a.close();
  await b.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("three processes tallying mints on one file store count every mint exactly once", async () => {
  const { url, dir } = await tempDbUrl();
  const store = await open(url);
  const barrier = `${dir}/barrier`;
  await Deno.mkdir(barrier);
  const PER_WRITER = 40;
  const LIMIT = 70; // the per-client limit: mints beyond it are not counted globally
  const script = new URL("./testdata/tally_mints.ts", import.meta.url).pathname;
  const child = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", script, url, barrier, String(PER_WRITER), String(LIMIT)],
      stdout: "piped",
      stderr: "piped",
    }).output();
  type Tally = { mintsMine: number; mintsAll: number | null };
  const [c1, c2, own] = await Promise.all([
    child(),
    child(),
    (async () => {
      await releaseWhenReady(barrier, 2);
      const out: Tally[] = [];
      for (let i = 0; i < PER_WRITER; i++) out.push(await store.tallyMint(mintTallyInput(LIMIT)));
      return out;
    })(),
  ]);
  const tallies: Tally[] = [...own];
  for (const c of [c1, c2]) {
    assert.equal(c.code, 0, new TextDecoder().decode(c.stderr));
    tallies.push(...JSON.parse(new TextDecoder().decode(c.stdout)).tallies);
  }
  const total = 3 * PER_WRITER;
  // Each tally saw a distinct count: no two increments read the same value.
  assert.deepEqual(
    tallies.map((t) => t.mintsMine).sort((a, b) => a - b),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  // Exactly the mints within the client's limit were counted globally, each once.
  const counted = tallies.filter((t) => t.mintsAll !== null);
  assert.ok(counted.every((t) => t.mintsMine <= LIMIT));
  assert.deepEqual(
    counted.map((t) => t.mintsAll).sort((a, b) => a! - b!),
    Array.from({ length: LIMIT }, (_, i) => i + 1),
  );
  const { now } = mintTallyInput(LIMIT);
  assert.equal(await store.readCounter("mints:*", 60_000, now), LIMIT);
  assert.equal(await store.readCounter("mints:k", 60_000, now), total);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

import assert from "node:assert/strict";
import { createClient } from "npm:@libsql/client@0.17.3";
import { loadConfig } from "../config.ts";
import { openStore } from "./mod.ts";
import { migrate, MIGRATIONS } from "./schema.ts";
import { mintTallyInput, open, tempDbUrl } from "./testdata/events.ts";
import type { NewTranslationDelta } from "./types.ts";

const d = (i: number, language = "es", extra: Partial<NewTranslationDelta> = {}) => ({
  eventId: `event_${i}`,
  language,
  kind: "output" as const,
  text: ` w${i}`,
  elapsedMs: i * 200,
  ...extra,
});

Deno.test("translation deltas: stored once by (language, event id), listed after a seq, capped, deleted with the session", async () => {
  const { url, dir } = await tempDbUrl();
  const store = await open(url);
  try {
    const a = await store.createSession({ source: "webrtc", model: "m", settings: {}, calls: 3 });
    const b = await store.createSession({ source: "webrtc", model: "m", settings: {} });
    assert.deepEqual(
      await store.recordTranslationDeltas(a.id, [d(1), d(2), d(1, "de")], { cap: 5 }),
      {
        added: 3,
        duplicates: 0,
      },
    );
    // The same event id again is a duplicate; another language or session is not.
    assert.deepEqual(
      await store.recordTranslationDeltas(
        a.id,
        [d(2), d(3, "es", { atMs: 50, itemId: "item_x" })],
        { cap: 5 },
      ),
      {
        added: 1,
        duplicates: 1,
      },
    );
    assert.deepEqual(await store.recordTranslationDeltas(b.id, [d(1)], { cap: 5 }), {
      added: 1,
      duplicates: 0,
    });
    const rows = await store.listTranslationDeltas(a.id);
    assert.deepEqual(rows.map((r) => [r.language, r.eventId, r.atMs, r.itemId]), [
      ["es", "event_1", 200, null],
      ["es", "event_2", 400, null],
      ["de", "event_1", 200, null],
      ["es", "event_3", 50, "item_x"],
    ]);
    assert.deepEqual(
      (await store.listTranslationDeltas(a.id, { afterSeq: rows[1].seq })).map((r) => r.eventId),
      ["event_1", "event_3"],
    );
    // Over the cap: refused as a whole, nothing written.
    assert.equal(await store.recordTranslationDeltas(a.id, [d(4), d(5)], { cap: 5 }), null);
    assert.equal((await store.listTranslationDeltas(a.id)).length, 4);
    assert.equal(await store.sessionCalls(a.id), 3);
    assert.equal(await store.sessionCalls(b.id), 1);
    await store.deleteSession(a.id);
    assert.deepEqual(await store.listTranslationDeltas(a.id), []);
    assert.equal((await store.listTranslationDeltas(b.id)).length, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("live calls: a session weighs its calls in countActiveSessions and tallyMint", async () => {
  const input = mintTallyInput(100);
  const config = await loadConfig({}, { platform: "local" });
  const store = await openStore(config, { url: ":memory:", now: () => input.now - 1000 });
  try {
    await store.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      calls: 3,
      clientKey: "k",
      callId: "rtc_a",
    });
    await store.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      clientKey: "other",
      callId: "rtc_b",
    });
    const window = { since: input.active.since, pendingSince: input.active.pendingSince };
    assert.equal(await store.countActiveSessions(window), 4);
    assert.equal(await store.countActiveSessions({ ...window, clientKey: "k" }), 3);
    const tally = await store.tallyMint({ ...input, calls: 3 });
    assert.equal(tally.activeAll, 4);
    assert.equal(tally.activeMine, 3);
    assert.equal(tally.mintsMine, 3, "a mint of three calls counts three");
    assert.equal((await store.tallyMint(input)).mintsMine, 4);
  } finally {
    await store.close();
  }
});

Deno.test("a store file from before translations upgrades: its sessions weigh one call", async () => {
  const { url, dir } = await tempDbUrl();
  await Deno.mkdir(`${dir}/nested`, { recursive: true });
  const client = createClient({ url });
  const executor = {
    execute: (stmt: { sql: string; args?: unknown[] }) => client.execute(stmt as never) as never,
  };
  const runAll = async (stmts: { sql: string; args?: unknown[] }[]) => {
    for (const s of stmts) await client.execute(s as never);
  };
  await migrate(executor, runAll, MIGRATIONS.filter((m) => m.version <= 4));
  const now = Date.now();
  await client.execute({
    sql: `INSERT INTO sessions (id, source, status, model, settings, created_at, started_at)
      VALUES ('sess_old_0000000000000000', 'webrtc', 'live', 'm', '{}', ?, ?)`,
    args: [now - 1000, now - 900],
  });
  client.close();
  const store = await open(url);
  try {
    assert.equal(await store.sessionCalls("sess_old_0000000000000000"), 1);
    assert.equal(await store.countActiveSessions({ since: now - 60_000 }), 1);
    assert.deepEqual(await store.listTranslationDeltas("sess_old_0000000000000000"), []);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

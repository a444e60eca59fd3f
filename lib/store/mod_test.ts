import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { openStore, withRetention } from "./mod.ts";
import { newSession } from "./testdata/events.ts";

const DAY = 86_400_000;

Deno.test("openStore prunes at start-up with config.retention and creates the database's folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store_mod_" });
  const url = `file:${dir}/data/sub/app.db`;
  const config = await loadConfig({ RETENTION_MAX_AGE_DAYS: "2" }, {
    platform: "local",
  });
  let age = 5 * DAY;
  const old = await openStore(config, { url, now: () => Date.now() - age });
  const stale = await old.createSession({
    source: "webrtc",
    model: "m",
    settings: {},
  });
  await old.updateSession(stale.id, { status: "ended" });
  age = 2.5 * DAY; // past the age limit but maybe still running: kept until a day later
  const kept = await old.createSession({
    source: "webrtc",
    model: "m",
    settings: {},
  });
  await old.updateSession(kept.id, { status: "live" });
  await old.close();
  assert.ok((await Deno.stat(`${dir}/data/sub/app.db`)).isFile);

  const store = await openStore(config, { url });
  assert.equal(await store.getSession(stale.id), null);
  assert.ok(await store.getSession(kept.id));
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("withRetention prunes after a session ends, at most once per interval", async () => {
  let now = 100 * DAY;
  const config = await loadConfig({ RETENTION_MAX_SESSIONS: "1" }, {
    platform: "local",
  });
  const base = await openStore(config, { url: ":memory:", now: () => now });
  const { store } = withRetention(base, config.retention, {
    everyMs: 60_000,
    now: () => now,
  });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    now += 1000;
    ids.push(
      await newSession(store),
    );
  }
  await store.updateSession(ids[0], { status: "ended" }); // prunes: ids[0] is beyond the newest 1
  assert.equal(await store.getSession(ids[0]), null);
  await store.updateSession(ids[1], { status: "ended" }); // within the interval: no prune
  assert.ok(await store.getSession(ids[1]));
  now += 60_000;
  await store.updateSession(ids[1], { status: "failed" }); // interval passed: prunes
  assert.equal(await store.getSession(ids[1]), null);
  assert.ok(await store.getSession(ids[2]), "the newest session stays");
  await store.updateSession(ids[2], { callId: "rtc_x" }); // not an ending: no prune, still there
  assert.equal((await store.getSession(ids[2]))?.callId, "rtc_x");
  await store.close();
});

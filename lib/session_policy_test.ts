import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { openStore } from "./store/mod.ts";
import {
  activeWindow,
  isStarted,
  missedStartBy,
  startBySeconds,
  ticketTtlSeconds,
  unstartedKeepMs,
} from "./session_policy.ts";

const NOW = Date.UTC(2026, 11, 2, 12);

Deno.test("the SQL's active sessions and missedStartBy agree on every kind of row (real SQLite)", async () => {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-policy" });
  let clock = NOW;
  const store = await openStore(config, { url: ":memory:", now: () => clock });
  try {
    const ttl = config.ephemeralKeyTtlSeconds * 1000;
    const rows = [];
    for (const ageMs of [0, ttl - 1, ttl, ttl + 1, 10 * ttl]) {
      for (const kind of ["unstarted", "call", "ran"] as const) {
        clock = NOW - ageMs;
        const s = await store.createSession({ source: "webrtc", model: "m", settings: {} });
        if (kind === "call") await store.updateSession(s.id, { callId: `rtc_${rows.length}` });
        if (kind === "ran") await store.updateSession(s.id, { startedAt: clock });
        rows.push((await store.getSession(s.id))!);
      }
    }
    clock = NOW;
    const window = activeWindow(config, NOW);
    for (const row of rows) {
      // What the SQL counts for this one row…
      const active = await store.countActiveSessions({ ...window }) -
        await countWithout(store, row.id, window);
      // …is exactly what the routes let start.
      assert.equal(active === 1, !missedStartBy(row, config, NOW), JSON.stringify(row));
      assert.equal(isStarted(row), row.callId !== null || row.startedAt !== null);
    }
  } finally {
    await store.close();
  }
});

/** The active count with one row set aside (ended), then put back. */
async function countWithout(
  store: Awaited<ReturnType<typeof openStore>>,
  id: string,
  window: { since: number; pendingSince: number },
): Promise<number> {
  const before = (await store.getSession(id))!;
  await store.updateSession(id, { status: "ended" });
  const n = await store.countActiveSessions({ ...window });
  await store.updateSession(id, { status: before.status });
  return n;
}

Deno.test("the windows' numbers come from the key lifetime and the longest session", async () => {
  const config = await loadConfig({ EPHEMERAL_KEY_TTL_SECONDS: "10", MAX_SESSION_SECONDS: "900" });
  assert.equal(startBySeconds(config, 1_000_999), 1010);
  assert.equal(ticketTtlSeconds(config), 10 + 900 + 120);
  assert.equal(unstartedKeepMs(config), 10_000 + 5 * 60_000);
  assert.equal(config.retention.unstartedKeepMs, unstartedKeepMs(config));
  assert.deepEqual(activeWindow(config, NOW), {
    since: NOW - 900_000,
    pendingSince: NOW - 10_000,
  });
});

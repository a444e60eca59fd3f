import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { openStore } from "../store/mod.ts";
import { type Config, loadConfig } from "../config.ts";
import type { Store } from "../store/types.ts";
import { chargeSessionUsage, countActiveSessions, recordUsage, spendRefusal } from "./limits.ts";
import { clientKeyOf, mintLimits } from "./mint_limits.ts";
import { clientKey } from "./client_ip.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 30);

async function setup(env: Record<string, string>, now = () => NOW) {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-limits", ...env });
  const store = await openStore(config, { url: ":memory:", now });
  const a = new Hono();
  a.use(mintLimits({ config, store, paths: ["/api/session"], now }));
  let minted = 0;
  a.post("/api/session", async (c) => {
    minted++;
    const s = await store.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      clientKey: clientKeyOf(c),
    });
    return c.json({ id: s.id });
  });
  a.post("/api/other", (c) => c.json({ ok: true }));
  return { config, store, app: a, minted: () => minted };
}

function from(ip: string) {
  return { remoteAddr: { transport: "tcp", hostname: ip, port: 1 } };
}

async function mint(a: Hono, ip: string) {
  const res = await a.request("/api/session", { method: "POST" }, from(ip));
  const body = await res.json();
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body,
  };
}

Deno.test("mintLimits caps mints per minute per client, then globally", async () => {
  const { store, app, minted } = await setup({
    RATE_MINTS_PER_MINUTE_PER_IP: "2",
    RATE_MINTS_PER_MINUTE: "3",
    MAX_CONCURRENT_SESSIONS_PER_IP: "100",
    MAX_CONCURRENT_SESSIONS: "100",
  });
  try {
    assert.equal((await mint(app, "10.0.0.1")).status, 200);
    assert.equal((await mint(app, "10.0.0.1")).status, 200);
    const third = await mint(app, "10.0.0.1");
    assert.equal(third.status, 429);
    assert.equal(third.body.error.code, "rate_limited");
    assert.equal(third.retryAfter, "30");
    assert.match(third.body.error.message, /your address/);
    assert.equal((await mint(app, "10.0.0.2")).status, 200);
    const global = await mint(app, "10.0.0.3");
    assert.equal(global.status, 429);
    assert.match(global.body.error.message, /busy/);
    assert.equal(minted(), 3);
    const other = await app.request(
      "/api/other",
      { method: "POST" },
      from("10.0.0.1"),
    );
    assert.equal(other.status, 200);
  } finally {
    await store.close();
  }
});

Deno.test("mintLimits holds across two app instances sharing one store", async () => {
  const a = await setup({ RATE_MINTS_PER_MINUTE_PER_IP: "1" });
  try {
    const b = new Hono();
    b.use(
      mintLimits({
        config: a.config,
        store: a.store,
        paths: ["/api/session"],
        now: () => NOW,
      }),
    );
    b.post("/api/session", (c) => c.json({ ok: true }));
    assert.equal((await mint(a.app, "10.0.0.9")).status, 200);
    assert.equal((await mint(b, "10.0.0.9")).status, 429);
  } finally {
    await a.store.close();
  }
});

async function activeSetup(
  store: Store,
  config: Config,
  ip: string,
  n: number,
) {
  const key = await clientKey(config.signingSecret, ip);
  const ids = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      (await store.createSession({
        source: "webrtc",
        model: "m",
        settings: {},
        clientKey: key,
      })).id,
    );
  }
  return ids;
}

Deno.test("mintLimits caps concurrent live sessions and frees a slot when one ends", async () => {
  const { store, config, app } = await setup({
    MAX_CONCURRENT_SESSIONS_PER_IP: "2",
    MAX_CONCURRENT_SESSIONS: "3",
  });
  try {
    const ids = await activeSetup(store, config, "10.0.1.1", 2);
    const res = await mint(app, "10.0.1.1");
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, "too_many_sessions");
    assert.equal((await mint(app, "10.0.1.9")).status, 200, "other clients");
    await store.updateSession(ids[0], { status: "ended", endedAt: NOW });
    assert.equal((await mint(app, "10.0.1.1")).status, 200);
    // Global: 3 are active now (2 from 10.0.1.1 after one ended, 1 from 10.0.1.9).
    while ((await countActiveSessions(store, { since: 0 }))! < 3) {
      await activeSetup(store, config, "10.0.1.2", 1);
    }
    const full = await mint(app, "10.0.1.3");
    assert.equal(full.status, 429);
    assert.match(full.body.error.message, /limit/);
  } finally {
    await store.close();
  }
});

Deno.test("countActiveSessions ignores sessions older than the maximum session length", async () => {
  let clock = NOW - 3_600_000;
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-limits" });
  const store = await openStore(config, { url: ":memory:", now: () => clock });
  try {
    await store.createSession({ source: "webrtc", model: "m", settings: {} });
    clock = NOW;
    await store.createSession({ source: "webrtc", model: "m", settings: {} });
    assert.equal(await countActiveSessions(store, { since: NOW - 900_000 }), 1);
    assert.equal(await countActiveSessions(store, { since: 0 }), 2);
  } finally {
    await store.close();
  }
});

Deno.test("mintLimits refuses when today's minutes are used up, per client and globally", async () => {
  const { store, config, app } = await setup({
    DAILY_MINUTES_PER_IP: "2",
    DAILY_MINUTES: "3",
  });
  try {
    const key = await clientKey(config.signingSecret, "10.0.2.1");
    const s = await store.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      clientKey: key,
    });
    // The sideband charges 125 s when the session ends; the client key comes from the row.
    await chargeSessionUsage(store, {
      sessionId: s.id,
      startedAt: NOW - 125_000,
      now: NOW,
    });
    const res = await mint(app, "10.0.2.1");
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, "daily_budget_exhausted");
    assert.equal(
      Number(res.retryAfter),
      (86_400_000 - (NOW % 86_400_000)) / 1000,
    );
    assert.equal((await mint(app, "10.0.2.2")).status, 200);
    await recordUsage(store, { seconds: 60, now: NOW });
    const global = await mint(app, "10.0.2.3");
    assert.equal(global.status, 429);
    assert.match(global.body.error.message, /This app has used/);
    // The key is write-only: no row shows it.
    assert.equal("clientKey" in (await store.getSession(s.id))!, false);
    assert.equal(await store.sessionClientKey(s.id), key);
    // A session is charged once; a deleted one is still charged, globally.
    assert.equal(
      await chargeSessionUsage(store, { sessionId: s.id, startedAt: NOW - 1000, now: NOW }),
      false,
    );
    const gone = await store.createSession({ source: "webrtc", model: "m", settings: {} });
    await store.deleteSession(gone.id);
    await chargeSessionUsage(store, {
      sessionId: gone.id,
      startedAt: NOW - 1000,
      now: NOW,
    });
    assert.equal(
      await store.readCounter("usage-seconds:*", 86_400_000, NOW),
      186,
    );
    // Tomorrow is a new budget.
    const tomorrow = NOW + 86_400_000;
    assert.equal(
      await store.readCounter("usage-seconds:*", 86_400_000, tomorrow),
      0,
    );
  } finally {
    await store.close();
  }
});

Deno.test("spendRefusal applies the global caps to sessions without a client (SIP)", async () => {
  const config = await loadConfig({
    OPENAI_API_KEY: "sk-test-limits",
    MAX_CONCURRENT_SESSIONS: "1",
    DAILY_MINUTES: "1",
  });
  const store = await openStore(config, { url: ":memory:", now: () => NOW });
  try {
    assert.equal(await spendRefusal(store, config.limits, { now: NOW }), null);
    const s = await store.createSession({
      source: "sip",
      model: "m",
      settings: {},
    });
    const busy = await spendRefusal(store, config.limits, { now: NOW });
    assert.equal(busy?.code, "too_many_sessions");
    await store.updateSession(s.id, { status: "ended", endedAt: NOW });
    assert.equal(await spendRefusal(store, config.limits, { now: NOW }), null);
    await recordUsage(store, { seconds: 61, now: NOW });
    const spent = await spendRefusal(store, config.limits, { now: NOW });
    assert.equal(spent?.code, "daily_budget_exhausted");
    assert.ok(spent!.retryAfter > 0);
  } finally {
    await store.close();
  }
});

Deno.test("chargeSessionUsage charges a session once, to its client, even from two stores", async () => {
  const dir = await Deno.makeTempDir({ prefix: "charge_once_" });
  const url = `file:${dir}/app.db`;
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-limits" });
  const a = await openStore(config, { url });
  const b = await openStore(config, { url });
  try {
    const s = await a.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      clientKey: "client-a-000000000000",
    });
    const charge = { sessionId: s.id, startedAt: NOW - 90_500, now: NOW };
    const results = await Promise.all([
      chargeSessionUsage(a, charge),
      chargeSessionUsage(b, charge),
      chargeSessionUsage(a, { ...charge, now: NOW + 5000 }),
    ]);
    assert.deepEqual(results.filter(Boolean).length, 1);
    const DAY = 86_400_000;
    assert.equal(await a.readCounter("usage-seconds:*", DAY, NOW), 91);
    assert.equal(await a.readCounter("usage-seconds:client-a-000000000000", DAY, NOW), 91);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mintLimits decides every limit in one tallyMint batch, in order", async () => {
  const env = {
    RATE_MINTS_PER_MINUTE_PER_IP: "3",
    RATE_MINTS_PER_MINUTE: "6",
    MAX_CONCURRENT_SESSIONS_PER_IP: "2",
    MAX_CONCURRENT_SESSIONS: "4",
    DAILY_MINUTES_PER_IP: "2",
    DAILY_MINUTES: "5",
  };
  /** Runs one script of mints, ends and usage; returns every answer and the final counters. */
  async function script() {
    let clock = NOW;
    const config = await loadConfig({ OPENAI_API_KEY: "sk-test-limits", ...env });
    const store = await openStore(config, { url: ":memory:", now: () => clock });
    const app = new Hono();
    app.use(mintLimits({ config, store, paths: ["/api/session"], now: () => clock }));
    const ids: string[] = [];
    app.post("/api/session", async (c) => {
      const s = await store.createSession({
        source: "webrtc",
        model: "m",
        settings: {},
        clientKey: clientKeyOf(c),
      });
      ids.push(s.id);
      return c.json({ id: s.id });
    });
    const answers: unknown[] = [];
    const step = async (ip: string) => {
      const r = await mint(app, ip);
      answers.push([
        ip,
        r.status,
        r.body.error?.code ?? null,
        r.body.error?.message ?? null,
        r.retryAfter,
      ]);
    };
    try {
      // Two sessions, then the client's concurrency cap, then its mints per minute (the 4th
      // attempt is over its own limit, so it is not counted against everyone's).
      for (let i = 0; i < 4; i++) await step("10.9.0.1");
      // Two more clients reach the global concurrency cap (4 active); the next is refused.
      for (const ip of ["10.9.0.2", "10.9.0.3", "10.9.0.4"]) await step(ip);
      // Global mints per minute: 3 + 3 counted so far, so the 7th and 8th are refused.
      for (const id of ids) await store.updateSession(id, { status: "live", startedAt: clock });
      await step("10.9.0.5");
      await step("10.9.0.6");
      // A new minute: mint counters reset; ending sessions frees slots.
      clock += 60_000;
      for (const id of ids) await store.updateSession(id, { status: "ended", endedAt: clock });
      await step("10.9.0.1");
      // Daily minutes: the client's, then everyone's.
      const key = await clientKey(config.signingSecret, "10.9.0.1");
      await recordUsage(store, { seconds: 120, clientKey: key, now: clock });
      await step("10.9.0.1");
      await step("10.9.0.7");
      await recordUsage(store, { seconds: 200, now: clock });
      await step("10.9.0.8");
      const counters = await Promise.all(
        ["mints:*", `mints:${key}`].map((k) => store.readCounter(k, 60_000, clock)),
      );
      return { answers, counters };
    } finally {
      await store.close();
    }
  }
  const batched = await script();
  // The script reached every refusal, so the comparison covers each branch.
  const codes = batched.answers.map((a) => (a as unknown[])[2]);
  assert.deepEqual(codes, [
    null,
    null,
    "too_many_sessions",
    "rate_limited",
    null,
    null,
    "too_many_sessions",
    "rate_limited",
    "rate_limited",
    null,
    "daily_budget_exhausted",
    null,
    "daily_budget_exhausted",
  ]);
});

Deno.test("a session continuing on a new call keeps its slot after its first key expired", async () => {
  let clock = NOW - 300_000;
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-limits" });
  const store = await openStore(config, { url: ":memory:", now: () => clock });
  try {
    const unused = await store.createSession({ source: "webrtc", model: "m", settings: {} });
    const continuing = await store.createSession({ source: "webrtc", model: "m", settings: {} });
    // What POST /api/session/:id/continue leaves: released from its call, pending, started.
    await store.updateSession(continuing.id, {
      status: "pending",
      callId: null,
      startedAt: NOW - 290_000,
    });
    clock = NOW;
    const window = { since: NOW - 900_000, pendingSince: NOW - 60_000 };
    assert.equal(await countActiveSessions(store, window), 1);
    assert.equal((await store.getSession(unused.id))?.status, "pending");
  } finally {
    await store.close();
  }
});

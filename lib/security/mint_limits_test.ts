/**
 * Optimistic mint admission: the app over loopback HTTP against the emulator (whose minted keys
 * are counted in `state.secrets`), plus the middleware's safety net and the refusal memory.
 * The limits' arithmetic itself is tested in `limits_test.ts`.
 */
import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { startTestApp, type TestApp } from "../../testing/server.ts";
import { insideOneWindow } from "../../testing/clock.ts";
import { loadConfig } from "../config.ts";
import { openStore } from "../store/mod.ts";
import { mintLimits, RefusalMemory } from "./mint_limits.ts";
import type { Refusal } from "./limits.ts";

async function mint(t: TestApp, forwardedFor?: string) {
  const res = await fetch(`${t.baseUrl}/api/session`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(forwardedFor ? { "X-Forwarded-For": forwardedFor } : {}),
    },
    body: "{}",
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: JSON.parse(text),
    retryAfter: res.headers.get("retry-after"),
  };
}

const minted = (t: TestApp) => t.emulator.control.state.secrets.size;

Deno.test("a client's first refused mint was minted and dropped; its next ones are decided first", async () => {
  const t = await startTestApp({ env: { RATE_MINTS_PER_MINUTE_PER_IP: "2" } });
  try {
    await insideOneWindow();
    assert.equal((await mint(t)).status, 200);
    assert.equal((await mint(t)).status, 200);
    assert.equal(minted(t), 2);
    const refused = await mint(t);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, "rate_limited");
    assert.ok(Number(refused.retryAfter) > 0);
    // Optimistic: the upstream mint ran alongside the decision, but its key never left.
    assert.equal(minted(t), 3);
    assert.doesNotMatch(refused.text, /ek_/);
    assert.equal((await t.store.listSessions({ limit: 10 })).sessions.length, 2, "no row for it");
    // Remembered: further mints of this client are decided before any upstream call.
    for (let i = 0; i < 3; i++) assert.equal((await mint(t)).status, 429);
    assert.equal(minted(t), 3);
    assert.equal(t.logs.filter((l) => l.level === "error").length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("a global refusal makes every client's mints decided first for a while", async () => {
  // On Val Town the first X-Forwarded-For hop is the client, so each address is its own client.
  const t = await startTestApp({ platform: "valtown", env: { RATE_MINTS_PER_MINUTE: "2" } });
  try {
    await insideOneWindow();
    assert.equal((await mint(t, "203.0.113.1")).status, 200);
    assert.equal((await mint(t, "203.0.113.2")).status, 200);
    const busy = await mint(t, "203.0.113.3");
    assert.equal(busy.status, 429);
    assert.match(busy.body.error.message, /busy/);
    assert.equal(minted(t), 3);
    const next = await mint(t, "203.0.113.4");
    assert.equal(next.status, 429);
    assert.equal(minted(t), 3, "decided before minting");
  } finally {
    await t.close();
  }
});

Deno.test("a Store failure while an optimistic mint is in flight answers 503 and hands out nothing", async () => {
  const t = await startTestApp({
    wrapStore: (store) => ({
      ...store,
      tallyMint: () =>
        Promise.reject(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })),
    }),
  });
  try {
    const res = await mint(t);
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "storage_unavailable");
    assert.doesNotMatch(res.text, /ek_/);
    assert.equal((await t.store.listSessions({ limit: 10 })).sessions.length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("mintLimits replaces an optimistic route's answer that never asked, when refused", async () => {
  const config = await loadConfig({
    OPENAI_API_KEY: "sk-test-limits",
    RATE_MINTS_PER_MINUTE_PER_IP: "1",
  });
  const store = await openStore(config, { url: ":memory:" });
  const errors: string[] = [];
  try {
    const app = new Hono();
    app.use(mintLimits({
      config,
      store,
      paths: ["/api/session"],
      optimistic: true,
      log: (level, message) => level === "error" && errors.push(message),
    }));
    app.post("/api/session", (c) => {
      c.header("X-Route", "ran");
      return c.json({ ephemeralKey: "ek_should_not_leave" });
    });
    const env = { remoteAddr: { transport: "tcp", hostname: "10.0.0.1", port: 1 } };
    const first = await app.request("/api/session", { method: "POST" }, env);
    assert.equal(first.status, 200);
    const second = await app.request("/api/session", { method: "POST" }, env);
    assert.equal(second.status, 429);
    const text = await second.text();
    assert.doesNotMatch(text, /ek_/);
    assert.equal(JSON.parse(text).error.code, "rate_limited");
    assert.equal(second.headers.get("x-route"), null, "nothing of the refused answer is kept");
    assert.ok(Number(second.headers.get("retry-after")) > 0);
    assert.equal(errors.length, 2, "both answers were given without asking");
  } finally {
    await store.close();
  }
});

Deno.test("RefusalMemory holds a client for the refusal's wait, at most holdMs, and everyone for a global one", () => {
  const memory = new RefusalMemory({ holdMs: 60_000, maxClients: 2 });
  const refusal = (scope: Refusal["scope"], retryAfter: number): Refusal => ({
    code: "rate_limited",
    message: "",
    retryAfter,
    scope,
  });
  memory.remember(refusal("client", 10), "a", 1_000);
  assert.equal(memory.holds("a", 10_999), true);
  assert.equal(memory.holds("a", 11_000), false);
  assert.equal(memory.holds("b", 5_000), false);
  memory.remember(refusal("client", 86_400), "a", 0);
  assert.equal(memory.holds("a", 59_999), true);
  assert.equal(memory.holds("a", 60_000), false, "capped at holdMs");
  memory.remember(refusal("all", 30), "a", 0);
  assert.equal(memory.holds("z", 29_999), true);
  assert.equal(memory.holds("z", 30_000), false);
  // Bounded: the third client clears the table rather than growing it.
  memory.remember(refusal("client", 30), "a", 40_000);
  memory.remember(refusal("client", 30), "b", 40_000);
  memory.remember(refusal("client", 30), "c", 40_000);
  assert.equal(memory.holds("a", 40_001), false);
  assert.equal(memory.holds("c", 40_001), true);
});

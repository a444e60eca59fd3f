import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { assembleDeps, setUp } from "./setup.ts";
import { loadConfig } from "./config.ts";
import { openStore } from "./store/mod.ts";
import type { LazyStore } from "./store/lazy.ts";

const env = {
  OPENAI_API_KEY: "sk-test-setup",
  SIGNING_SECRET: "test-signing-secret-0123456789",
  INTERNAL_SECRET: "test-internal-secret-0123456789",
};
const remote = { remoteAddr: { hostname: "127.0.0.1" } };

Deno.test("setUp(): the page, its files and /api/config are served without opening the store", async () => {
  const deps = await setUp({ env, platform: "local", storeOptions: { url: ":memory:" } });
  const store = deps.store as LazyStore;
  const app = createApp(deps);
  try {
    for (const path of ["/", "/frontend/app.js", "/shared/transcript.js", "/api/config"]) {
      const res = await app.request(path, {}, remote);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    assert.equal(store.opened, false);
    const missing = await app.request("/api/sessions/AAAAAAAAAAAAAAAAAAAAAA", {}, remote);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    assert.equal(store.opened, true);
  } finally {
    await deps.sidebands.shutdown();
    await store.close();
  }
});

Deno.test("setUp() without secrets: the page opens no store; the first API request takes the Store's", async () => {
  const dir = await Deno.makeTempDir();
  const start = () =>
    setUp({
      env: { OPENAI_API_KEY: "sk-test-setup" },
      platform: "local",
      storeOptions: { url: `file:${dir}/app.db` },
    });
  const [a, b] = [await start(), await start()];
  try {
    assert.notEqual(a.config.signingSecret, b.config.signingSecret, "each starts with its own");
    const appA = createApp(a);
    for (const path of ["/", "/frontend/app.js", "/shared/transcript.js"]) {
      const res = await appA.request(path, {}, remote);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    assert.equal((a.store as LazyStore).opened, false);
    for (const deps of [a, b]) {
      const res = await createApp(deps).request("/api/config", {}, remote);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal((deps.store as LazyStore).opened, true);
    }
    // Both processes now use the secrets the first one stored.
    assert.equal(b.config.signingSecret, a.config.signingSecret);
    assert.equal(b.config.internalSecret, a.config.internalSecret);
  } finally {
    for (const deps of [a, b]) {
      await deps.sidebands.shutdown();
      await deps.store.close();
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assembleDeps() completes the parts: retried upstream, sockets, registry, logger", async () => {
  const config = await loadConfig(env, { platform: "local" });
  const store = await openStore(config, { url: ":memory:" });
  try {
    const deps = assembleDeps({ config, store });
    assert.equal(typeof deps.upstream.createClientSecret, "function");
    assert.equal(typeof deps.connectWebSocket, "function");
    assert.equal(typeof deps.fetch, "function");
    assert.equal(typeof deps.log, "function");
    assert.deepEqual(deps.sidebands.list(), []);
    assert.equal(deps.envVarsUrl, null);
    assert.match(new TextDecoder().decode(await deps.readFile("deno.json")), /"tasks"/);
  } finally {
    await store.close();
  }
});

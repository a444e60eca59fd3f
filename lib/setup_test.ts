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
    const list = await app.request("/api/sessions?limit=1", {}, remote);
    assert.equal(list.status, 200);
    assert.deepEqual((await list.json()).sessions, []);
    assert.equal(store.opened, true);
  } finally {
    await deps.sidebands.shutdown();
    await store.close();
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

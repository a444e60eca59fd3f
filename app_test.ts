import assert from "node:assert/strict";
import { createApp, isStorageError } from "./app.ts";
import { assembleDeps } from "./lib/setup.ts";
import { loadConfig } from "./lib/config.ts";
import { openStore } from "./lib/store/mod.ts";
import { createFileReader } from "./lib/files.ts";

Deno.test("a store that fails answers 503 storage_unavailable with Retry-After, not a 500", async () => {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-app-error" });
  const store = await openStore(config, { url: ":memory:" });
  await store.close(); // every later query now throws the engine's own error
  const app = createApp(assembleDeps({
    config,
    store,
    readFile: createFileReader({ platform: "local" }),
    fetch: () => Promise.reject(new Error("no upstream in this test")),
  }));
  const res = await app.request("/api/sessions/AAAAAAAAAAAAAAAAAAAAAA", {}, {
    remoteAddr: { hostname: "127.0.0.1" },
  });
  const body = await res.json();
  assert.equal(res.status, 503, JSON.stringify(body));
  assert.equal(body.error.code, "storage_unavailable");
  assert.equal(res.headers.get("retry-after"), "5");
});

Deno.test("isStorageError() recognises engine errors only", () => {
  assert.equal(isStorageError({ name: "LibsqlError", code: "CLIENT_CLOSED" }), true);
  assert.equal(isStorageError({ code: "SQLITE_BUSY" }), true);
  assert.equal(isStorageError(new TypeError("boom")), false);
  assert.equal(isStorageError(null), false);
});

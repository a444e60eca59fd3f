import assert from "node:assert/strict";
import { lazyStore, StoreOpenError } from "./lazy.ts";
import { openStore } from "./mod.ts";
import { loadConfig } from "../config.ts";
import type { Store } from "./types.ts";

Deno.test("lazyStore() opens once, on the first call, for concurrent callers too", async () => {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-lazy" });
  let opens = 0;
  const store = lazyStore(() => {
    opens++;
    return openStore(config, { url: ":memory:" });
  });
  assert.equal(store.opened, false);
  assert.equal(opens, 0);
  const [a, b] = await Promise.all([store.getSession("ses_x"), store.getSession("ses_y")]);
  assert.deepEqual([a, b, opens, store.opened], [null, null, 1, true]);
  const created = await store.createSession({
    source: "webrtc",
    model: "gpt-transcribe",
    settings: {},
  });
  assert.equal((await store.getSession(created.id))?.id, created.id);
  assert.equal(opens, 1);
  await store.close();
});

Deno.test("lazyStore(): close() before any use opens nothing; a failed open is retried", async () => {
  let opens = 0;
  const never = lazyStore(() => {
    opens++;
    return Promise.reject(new Error("unused"));
  });
  await never.close();
  assert.equal(opens, 0);
  // Not a thenable: awaiting the store itself must not open it.
  assert.equal(await Promise.resolve(never), never);
  assert.equal(opens, 0);

  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-lazy" });
  let fail = true;
  const flaky = lazyStore((): Promise<Store> => {
    opens++;
    if (fail) return Promise.reject(new Error("database unreachable"));
    return openStore(config, { url: ":memory:" });
  });
  await assert.rejects(flaky.listSessions({ limit: 1 }), StoreOpenError);
  assert.equal(flaky.opened, false);
  fail = false;
  assert.deepEqual((await flaky.listSessions({ limit: 1 })).sessions, []);
  assert.equal(opens, 2);
  await flaky.close();
});

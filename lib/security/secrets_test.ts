import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { openStore } from "../store/mod.ts";
import { SECRET_SETTINGS, withStoredSecrets } from "./secrets.ts";

Deno.test("withStoredSecrets(): processes on one database agree on generated secrets; set ones win", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secrets_" });
  const url = `file:${dir}/app.db`;
  const env = { OPENAI_API_KEY: "sk-emulator-local" };
  const [a, b] = await Promise.all([loadConfig(env), loadConfig(env)]);
  assert.notEqual(a.signingSecret, b.signingSecret, "each load starts from its own random one");
  const storeA = await openStore(a, { url });
  const storeB = await openStore(b, { url });
  try {
    // Two processes starting at once: one of them stores its secrets, both end up with those.
    const [first, second] = await Promise.all([
      withStoredSecrets(a, storeA),
      withStoredSecrets(b, storeB),
    ]);
    assert.equal(first.signingSecret, second.signingSecret);
    assert.equal(first.internalSecret, second.internalSecret);
    assert.notEqual(first.signingSecret, first.internalSecret);
    assert.ok([a.signingSecret, b.signingSecret].includes(first.signingSecret));
    // A restart reads them back.
    const again = await withStoredSecrets(await loadConfig(env), storeA);
    assert.equal(again.signingSecret, first.signingSecret);
    assert.equal(
      await storeB.ensureSetting(SECRET_SETTINGS.internal, "ignored"),
      first.internalSecret,
    );
    // Secrets from the environment are used as they are and never stored.
    const set = await withStoredSecrets(
      await loadConfig({ ...env, SIGNING_SECRET: "from-the-environment-0123" }),
      storeA,
    );
    assert.equal(set.signingSecret, "from-the-environment-0123");
    assert.equal(set.internalSecret, first.internalSecret);
  } finally {
    await storeA.close();
    await storeB.close();
    await Deno.remove(dir, { recursive: true });
  }
});

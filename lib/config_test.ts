import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";

const KEY = "sk-test-0123456789abcdefghijklmnop";

Deno.test("loadConfig() without any variable gives safe defaults and never throws", async () => {
  const config = await loadConfig({});
  assert.equal(config.openaiApiKey, null);
  assert.equal(config.openaiBaseUrl, "https://api.openai.com");
  assert.equal(config.platform, "local");
  assert.equal(config.demo, false);
  assert.equal(config.port, 8000);
  assert.equal(config.defaultModel, "gpt-live-transcribe");
  assert.equal(config.privatePrompt, null);
  assert.equal(config.ephemeralKeyTtlSeconds, 10);
  assert.equal(config.signaling, "direct");
  assert.equal(config.platformRequestLimitSeconds, null);
  assert.ok(config.signingSecret.length >= 32);
  assert.ok(config.internalSecret.length >= 32);
  assert.notEqual(config.signingSecret, config.internalSecret);
});

Deno.test("loadConfig() derives stable secrets from the key that do not reveal it", async () => {
  const a = await loadConfig({ OPENAI_API_KEY: KEY });
  const b = await loadConfig({ OPENAI_API_KEY: KEY });
  const other = await loadConfig({ OPENAI_API_KEY: `${KEY}x` });
  assert.equal(a.openaiApiKey, KEY);
  // Every process of a val derives the same secrets, so tickets survive restarts.
  assert.equal(a.signingSecret, b.signingSecret);
  assert.equal(a.internalSecret, b.internalSecret);
  assert.notEqual(a.signingSecret, other.signingSecret);
  assert.notEqual(a.signingSecret, a.internalSecret);
  for (const secret of [a.signingSecret, a.internalSecret]) {
    assert.ok(!secret.includes(KEY.slice(3, 15)), "a derived secret must not contain the key");
  }
  // Without a key the fallback is random per load.
  const [x, y] = await Promise.all([loadConfig({}), loadConfig({})]);
  assert.notEqual(x.signingSecret, y.signingSecret);
  // Explicit secrets win.
  const set = await loadConfig({
    OPENAI_API_KEY: KEY,
    SIGNING_SECRET: "signing-secret-0123456789",
    INTERNAL_SECRET: "internal-secret-0123456789",
  });
  assert.equal(set.signingSecret, "signing-secret-0123456789");
  assert.equal(set.internalSecret, "internal-secret-0123456789");
});

Deno.test("loadConfig() reads the platform, trims the base URL and treats empty values as unset", async () => {
  const config = await loadConfig({
    VALTOWN_ENTRYPOINT: "https://esm.town/v/alice/hello/main.tsx",
    OPENAI_BASE_URL: "http://127.0.0.1:9999///",
    OPENAI_API_KEY: "",
    TRANSCRIPTION_PROMPT: "Hono, Val Town, Deno",
    PORT: "0",
  });
  assert.equal(config.platform, "valtown");
  assert.equal(config.platformRequestLimitSeconds, 60);
  assert.equal(config.openaiBaseUrl, "http://127.0.0.1:9999");
  assert.equal(config.openaiApiKey, null);
  assert.equal(config.privatePrompt, "Hono, Val Town, Deno");
  assert.equal(config.port, 0);
  const local = await loadConfig({}, { platform: "local", demo: true });
  assert.equal(local.demo, true);
  assert.equal(local.platform, "local");
});

Deno.test("loadConfig() names the variable of every invalid value", async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ OPENAI_BASE_URL: "not a url" }, "OPENAI_BASE_URL"],
    [{ EPHEMERAL_KEY_TTL_SECONDS: "5" }, "EPHEMERAL_KEY_TTL_SECONDS"],
    [{ SIGNING_SECRET: "short" }, "SIGNING_SECRET"],
    [{ SIP_ENABLED: "maybe" }, "SIP_ENABLED"],
    [{ TRANSCRIPTION_MODEL: "gpt-9-transcribe" }, "TRANSCRIPTION_MODEL"],
    [{ SIGNALING: "proxy" }, "SIGNALING"],
  ];
  for (const [env, name] of cases) {
    await assert.rejects(
      () => loadConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, new RegExp(`^Cannot read environment variable "${name}"`));
        return true;
      },
      name,
    );
  }
  // The model error lists the choices, so the fix is obvious.
  await assert.rejects(
    () => loadConfig({ TRANSCRIPTION_MODEL: "gpt-9-transcribe" }),
    /choose one of gpt-transcribe, gpt-live-transcribe/,
  );
  // A deprecated model is still a valid default (it stays selectable until its shutdown).
  assert.equal(
    (await loadConfig({ TRANSCRIPTION_MODEL: "whisper-1" })).defaultModel,
    "whisper-1",
  );
});

Deno.test("loadConfig() reads SIGNALING: direct by default, relay on request, anything else names the choices", async () => {
  assert.equal((await loadConfig({ SIGNALING: "direct" })).signaling, "direct");
  assert.equal((await loadConfig({ SIGNALING: "relay" })).signaling, "relay");
  // Empty means unset, like every other variable.
  assert.equal((await loadConfig({ SIGNALING: "" })).signaling, "direct");
  for (const value of ["proxy", "RELAY", " relay", "true"]) {
    await assert.rejects(
      () => loadConfig({ SIGNALING: value }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(
          err.message,
          /^Cannot read environment variable "SIGNALING": Use "direct" \(.*\) or "relay" \(.*\)$/,
        );
        return true;
      },
      value,
    );
  }
});

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

Deno.test("loadConfig() never derives secrets from the key: random unless set, and says which", async () => {
  const a = await loadConfig({ OPENAI_API_KEY: KEY });
  const b = await loadConfig({ OPENAI_API_KEY: KEY });
  assert.equal(a.openaiApiKey, KEY);
  // A key may be public (the emulator's): two loads with it share nothing.
  assert.notEqual(a.signingSecret, b.signingSecret);
  assert.notEqual(a.internalSecret, b.internalSecret);
  assert.notEqual(a.signingSecret, a.internalSecret);
  assert.deepEqual(a.secretsFromEnv, { signing: false, internal: false });
  for (const secret of [a.signingSecret, a.internalSecret]) {
    assert.ok(secret.length >= 43);
    assert.ok(!secret.includes(KEY.slice(3, 15)), "a secret must not contain the key");
  }
  // Explicit secrets win.
  const set = await loadConfig({
    OPENAI_API_KEY: KEY,
    SIGNING_SECRET: "signing-secret-0123456789",
    INTERNAL_SECRET: "internal-secret-0123456789",
  });
  assert.equal(set.signingSecret, "signing-secret-0123456789");
  assert.equal(set.internalSecret, "internal-secret-0123456789");
  assert.deepEqual(set.secretsFromEnv, { signing: true, internal: true });
});

Deno.test("loadConfig() refuses a weak ACCESS_CODE and credentials in OPENAI_BASE_URL", async () => {
  for (const code of ["1234", "open-sesame", "aaaaaaaaaaaaaaaa", "abababababababab"]) {
    await assert.rejects(
      () => loadConfig({ ACCESS_CODE: code }),
      /^ConfigError: Cannot read environment variable "ACCESS_CODE"/,
      code,
    );
  }
  assert.equal(
    (await loadConfig({ ACCESS_CODE: "correct horse battery" })).accessCode,
    "correct horse battery",
  );
  for (
    const url of [
      "https://user:pass@proxy.example",
      "https://token@proxy.example",
      "https://proxy.example/?key=sk-1",
      "https://proxy.example/#x",
    ]
  ) {
    await assert.rejects(
      () => loadConfig({ OPENAI_BASE_URL: url }),
      /Cannot read environment variable "OPENAI_BASE_URL": Use a plain URL/,
      url,
    );
  }
  const pub = await loadConfig({ PUBLIC_URL: "https://alice--0123.web.val.run/some/path" });
  assert.equal(pub.publicOrigin, "https://alice--0123.web.val.run");
  await assert.rejects(() => loadConfig({ PUBLIC_URL: "ftp://x.example" }), /PUBLIC_URL/);
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
    [{ ACCESS_CODE: "short" }, "ACCESS_CODE"],
    [{ PUBLIC_URL: "not a url" }, "PUBLIC_URL"],
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

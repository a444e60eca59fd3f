/**
 * Conformance, Realtime Translation API over real HTTP on loopback:
 * `POST /v1/realtime/translations/client_secrets` shapes (the `openai` package's
 * `RealtimeTranslationClientSecretCreateResponse`), defaults, strict validation, the output
 * language list and its option, 401 and REST faults.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TRANSLATION_LANGUAGE_CODES } from "../lib/translation_languages.ts";
import { assertEnvelope, post, startTestEmulator } from "./testkit.ts";

const PATH = "/v1/realtime/translations/client_secrets";

Deno.test("translation client_secrets: ek_ value, expires_at, the effective session", async () => {
  const emu = await startTestEmulator();
  try {
    const before = Math.floor(Date.now() / 1000);
    const r = await post(emu, PATH, {
      session: { model: "gpt-realtime-translate", audio: { output: { language: "es" } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(r.json!).sort(), ["expires_at", "session", "value"]);
    assert.match(r.json!.value, /^ek_[0-9a-f]{32}$/);
    assert.ok(Math.abs(r.json!.expires_at - (before + 600)) <= 2);
    const s = r.json!.session;
    assert.deepEqual(Object.keys(s).sort(), ["audio", "expires_at", "id", "model", "type"]);
    assert.match(s.id, /^sess_/);
    assert.equal(s.type, "translation");
    assert.equal(s.model, "gpt-realtime-translate");
    // OpenAI's example response repeats the secret's expiry here.
    assert.equal(s.expires_at, r.json!.expires_at);
    assert.deepEqual(s.audio, {
      input: { noise_reduction: null, transcription: null },
      output: { language: "es" },
    });

    const full = await post(emu, PATH, {
      expires_after: { anchor: "created_at", seconds: 10 },
      session: {
        model: "gpt-realtime-translate",
        audio: {
          input: {
            transcription: { model: "gpt-realtime-whisper" },
            noise_reduction: { type: "near_field" },
          },
          output: { language: "de" },
        },
      },
    });
    assert.equal(full.status, 200, full.text);
    assert.ok(Math.abs(full.json!.expires_at - (before + 10)) <= 2);
    assert.deepEqual(full.json!.session.audio, {
      input: {
        noise_reduction: { type: "near_field", strength: 1 },
        transcription: { model: "gpt-realtime-whisper" },
      },
      output: { language: "de" },
    });

    // Without a language the session gets the default (unverified; option).
    const bare = await post(emu, PATH, { session: { model: "gpt-realtime-translate" } });
    assert.equal(bare.status, 200);
    assert.deepEqual(bare.json!.session.audio.output, { language: "en" });

    // Every documented language is accepted.
    for (const language of TRANSLATION_LANGUAGE_CODES) {
      const ok = await post(emu, PATH, {
        session: { model: "gpt-realtime-translate", audio: { output: { language } } },
      });
      assert.equal(ok.status, 200, language);
    }
  } finally {
    await emu.close();
  }
});

Deno.test("translation client_secrets: strict validation, as for Realtime secrets", async () => {
  const emu = await startTestEmulator();
  try {
    const model = "gpt-realtime-translate";
    const cases: [unknown, number, string | null, string | null][] = [
      [{}, 400, "missing_required_parameter", "session"],
      [{ session: { model }, model }, 400, "unknown_parameter", "model"],
      [{ session: {} }, 400, "missing_required_parameter", "session.model"],
      // The package's create request has no `type` (the response's is always "translation").
      [{ session: { type: "translation", model } }, 400, "unknown_parameter", "session.type"],
      [{ session: { model: "gpt-realtime" } }, 400, "invalid_value", "session.model"],
      [{ session: { model: 7 } }, 400, "invalid_type", "session.model"],
      [{ session: { model, instructions: "x" } }, 400, "unknown_parameter", "session.instructions"],
      [
        { session: { model, audio: { output: { language: "nl" } } } },
        400,
        "invalid_value",
        "session.audio.output.language",
      ],
      [
        { session: { model, audio: { output: { language: "ES" } } } },
        400,
        "invalid_value",
        "session.audio.output.language",
      ],
      [
        { session: { model, audio: { output: { language: 34 } } } },
        400,
        "invalid_type",
        "session.audio.output.language",
      ],
      [
        { session: { model, audio: { output: { voice: "alloy" } } } },
        400,
        "unknown_parameter",
        "session.audio.output.voice",
      ],
      // Live: "OpenAI currently rejects session.audio.input.language" (the source is detected).
      [
        { session: { model, audio: { input: { language: "en" } } } },
        400,
        "unknown_parameter",
        "session.audio.input.language",
      ],
      [
        { session: { model, audio: { input: { transcription: { model: "whisper-2" } } } } },
        400,
        "invalid_value",
        "session.audio.input.transcription.model",
      ],
      [
        { session: { model, audio: { input: { transcription: {} } } } },
        400,
        "missing_required_parameter",
        "session.audio.input.transcription.model",
      ],
      [
        {
          session: {
            model,
            audio: { input: { transcription: { model: "gpt-realtime-whisper", prompt: "x" } } },
          },
        },
        400,
        "unknown_parameter",
        "session.audio.input.transcription.prompt",
      ],
      [
        { session: { model, audio: { input: { noise_reduction: { type: "loud" } } } } },
        400,
        "invalid_value",
        "session.audio.input.noise_reduction.type",
      ],
      [
        { session: { model, audio: { input: { turn_detection: null } } } },
        400,
        "unknown_parameter",
        "session.audio.input.turn_detection",
      ],
      [
        { session: { model }, expires_after: { anchor: "created_at", seconds: 5 } },
        400,
        "integer_below_min_value",
        "expires_after.seconds",
      ],
      [
        { session: { model }, expires_after: { seconds: 7201 } },
        400,
        "integer_above_max_value",
        "expires_after.seconds",
      ],
      [
        { session: { model }, expires_after: { anchor: "now" } },
        400,
        "invalid_value",
        "expires_after.anchor",
      ],
    ];
    for (const [body, status, code, param] of cases) {
      const r = await post(emu, PATH, body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
      assertEnvelope(r.json, code, param);
      assert.match(r.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);
    }
    const listed = await post(emu, PATH, {
      session: { model, audio: { output: { language: "nl" } } },
    });
    assert.match(listed.json!.error.message, /Invalid value: 'nl'\. Supported values are: 'es'/);
    // Nothing was stored by the failed requests.
    assert.equal(emu.control.state.secrets.size, 0);

    const garbage = await fetch(emu.baseUrl + PATH, {
      method: "POST",
      headers: { authorization: `Bearer ${emu.apiKey}`, "content-type": "application/json" },
      body: "{nope",
    });
    assert.equal(garbage.status, 400);
    assertEnvelope(await garbage.json(), null, null);
  } finally {
    await emu.close();
  }
});

Deno.test("translation client_secrets: translationLanguages 'any' accepts unlisted languages", async () => {
  const emu = await startTestEmulator({
    translationLanguages: "any",
    translationDefaultLanguage: "fr",
  });
  try {
    const r = await post(emu, PATH, {
      session: { model: "gpt-realtime-translate", audio: { output: { language: "nl" } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json!.session.audio.output.language, "nl");
    const bare = await post(emu, PATH, { session: { model: "gpt-realtime-translate" } });
    assert.equal(bare.json!.session.audio.output.language, "fr");
  } finally {
    await emu.close();
  }
});

Deno.test("translation client_secrets: 401 without the standard key, REST faults", async () => {
  const emu = await startTestEmulator();
  try {
    const body = { session: { model: "gpt-realtime-translate" } };
    const none = await post(emu, PATH, body, null);
    assert.equal(none.status, 401);
    assertEnvelope(none.json, null, null);
    const wrong = await post(emu, PATH, body, "sk-wrong-key-123456");
    assert.equal(wrong.status, 401);
    assertEnvelope(wrong.json, "invalid_api_key", null);
    // An ephemeral key cannot mint secrets.
    const ek = (await post(emu, PATH, body)).json!.value;
    assert.equal((await post(emu, PATH, body, ek)).status, 401);

    const set = await post(emu, "/_emulator/faults", {
      rest: [{ endpoint: "translation_client_secrets", status: 429 }],
    });
    assert.equal(set.status, 200, set.text);
    const limited = await post(emu, PATH, body);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assertEnvelope(limited.json, "rate_limit_exceeded", null);
    // The fault is consumed; the Realtime endpoint was never affected.
    assert.equal((await post(emu, PATH, body)).status, 200);
    await post(emu, "/_emulator/faults", { rest: [{ endpoint: "client_secrets", status: 500 }] });
    assert.equal((await post(emu, PATH, body)).status, 200);
  } finally {
    await emu.close();
  }
});

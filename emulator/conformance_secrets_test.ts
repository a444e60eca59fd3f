/**
 * Conformance, protocol reference §1 over real HTTP on loopback: client_secrets
 * shapes, defaults, validation errors and per-model rules.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertEnvelope, post, startTestEmulator } from "./testkit.ts";

const T = {};

Deno.test(
  "§1 client_secrets: defaults filled, ek_ value, expires_at",
  T,
  async () => {
    const emu = await startTestEmulator();
    try {
      const before = Math.floor(Date.now() / 1000);
      const r = await post(emu, "/v1/realtime/client_secrets", {
        session: { type: "transcription" },
      });
      assert.equal(r.status, 200);
      assert.match(r.json!.value, /^ek_[0-9a-f]{32}$/);
      assert.ok(Math.abs(r.json!.expires_at - (before + 600)) <= 2);
      const s = r.json!.session;
      assert.equal(s.object, "realtime.transcription_session");
      assert.match(s.id, /^sess_/);
      assert.equal(s.expires_at, 0);
      assert.deepEqual(s.audio.input, {
        format: { type: "audio/pcm", rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: {
          type: "server_vad",
          threshold: 0.5,
          prefix_padding_ms: 300,
          silence_duration_ms: 200,
        },
      });
      assert.equal(s.include, null);

      const rt = await post(emu, "/v1/realtime/client_secrets", {
        expires_after: { anchor: "created_at", seconds: 10 },
      });
      assert.equal(rt.status, 200);
      assert.equal(rt.json!.session.object, "realtime.session");
      assert.equal(rt.json!.session.model, "gpt-realtime");
      assert.equal(rt.json!.session.max_output_tokens, "inf");
      assert.equal(
        rt.json!.session.audio.input.turn_detection.create_response,
        true,
      );
      assert.equal(rt.json!.session.audio.output.voice, "alloy");

      const full = await post(emu, "/v1/realtime/client_secrets", {
        session: {
          type: "transcription",
          audio: {
            input: {
              transcription: {
                model: "gpt-transcribe",
                keywords: ["Deno"],
                languages: ["en"],
              },
              noise_reduction: { type: "near_field" },
              turn_detection: { type: "semantic_vad" },
            },
          },
          include: ["item.input_audio_transcription.logprobs"],
        },
      });
      assert.equal(full.status, 200, full.text);
      const inp = full.json!.session.audio.input;
      assert.deepEqual(inp.transcription, {
        model: "gpt-transcribe",
        language: null,
        prompt: null,
        keywords: ["Deno"],
        languages: ["en"],
      });
      assert.deepEqual(inp.noise_reduction, {
        type: "near_field",
        strength: 1,
      });
      assert.deepEqual(inp.turn_detection, {
        type: "semantic_vad",
        eagerness: "auto",
      });
    } finally {
      await emu.close();
    }
  },
);

Deno.test(
  "§1.3 client_secrets errors: 401, unknown params, ranges, enums, model rules",
  T,
  async () => {
    const emu = await startTestEmulator();
    try {
      const cases: [unknown, number, string | null, string | null][] = [
        [{ type: "transcription" }, 400, "unknown_parameter", "type"],
        [
          { session: { type: "transcription", bogus: 1 } },
          400,
          "unknown_parameter",
          "session.bogus",
        ],
        [{ session: {} }, 400, "missing_required_parameter", "session.type"],
        [{ session: { type: "speech" } }, 400, "invalid_value", "session.type"],
        [
          { expires_after: { seconds: 9 } },
          400,
          "integer_below_min_value",
          "expires_after.seconds",
        ],
        [
          { expires_after: { seconds: 7201 } },
          400,
          "integer_above_max_value",
          "expires_after.seconds",
        ],
        [
          { expires_after: { anchor: "now" } },
          400,
          "invalid_value",
          "expires_after.anchor",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: { input: { format: { type: "pcm16" } } },
            },
          },
          400,
          "invalid_value",
          "session.audio.input.format.type",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: { input: { format: { type: "audio/pcm", rate: 16000 } } },
            },
          },
          400,
          "integer_below_min_value",
          "session.audio.input.format.rate",
        ],
        [
          { session: { type: "transcription", input_audio_format: "pcm16" } },
          400,
          "unknown_parameter",
          "session.input_audio_format",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: { input: { transcription: { model: "nope" } } },
            },
          },
          400,
          "invalid_value",
          "session.audio.input.transcription.model",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: {
                input: {
                  transcription: { model: "gpt-live-transcribe" },
                  turn_detection: { type: "server_vad" },
                },
              },
            },
          },
          400,
          "invalid_value",
          "session.audio.input.turn_detection",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: {
                input: {
                  transcription: { model: "gpt-realtime-whisper" },
                  turn_detection: { type: "semantic_vad" },
                },
              },
            },
          },
          400,
          "invalid_value",
          "session.audio.input.turn_detection",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: {
                input: {
                  turn_detection: null,
                  transcription: { model: "gpt-realtime-whisper", prompt: "x" },
                },
              },
            },
          },
          400,
          "unsupported_parameter",
          "session.audio.input.transcription.prompt",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: {
                input: {
                  transcription: { model: "gpt-4o-transcribe", delay: "low" },
                },
              },
            },
          },
          400,
          "unsupported_parameter",
          "session.audio.input.transcription.delay",
        ],
        [
          {
            session: {
              type: "transcription",
              audio: {
                input: {
                  transcription: { model: "whisper-1", keywords: ["a"] },
                },
              },
            },
          },
          400,
          "unsupported_parameter",
          "session.audio.input.transcription.keywords",
        ],
        [
          { session: { type: "realtime", model: "gpt-4o-transcribe" } },
          400,
          "invalid_value",
          "session.model",
        ],
      ];
      for (const [body, status, code, param] of cases) {
        const r = await post(emu, "/v1/realtime/client_secrets", body);
        assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
        assertEnvelope(r.json, code, param);
        assert.equal(r.json!.error.type, "invalid_request_error");
      }
      const ok = await post(emu, "/v1/realtime/client_secrets", {
        session: {
          type: "transcription",
          audio: {
            input: {
              turn_detection: null,
              transcription: { model: "gpt-realtime-whisper", delay: "low" },
            },
          },
        },
      });
      assert.equal(ok.status, 200, ok.text);
      // The 2026-12 rule: a VAD on gpt-live-transcribe / gpt-realtime-whisper gets the live text;
      // omitted means none for them and server_vad for the models with VAD.
      const refused = await post(emu, "/v1/realtime/client_secrets", {
        session: {
          type: "transcription",
          audio: {
            input: {
              transcription: { model: "gpt-live-transcribe" },
              turn_detection: { type: "semantic_vad" },
            },
          },
        },
      });
      assert.equal(
        refused.json!.error.message,
        "Turn detection is not supported for this transcription model.",
      );
      for (
        const [model, want] of [
          ["gpt-live-transcribe", null],
          ["gpt-realtime-whisper", null],
          ["gpt-transcribe", "server_vad"],
          ["whisper-1", "server_vad"],
        ] as const
      ) {
        const r = await post(emu, "/v1/realtime/client_secrets", {
          session: { type: "transcription", audio: { input: { transcription: { model } } } },
        });
        assert.equal(r.status, 200, `${model}: ${r.text}`);
        assert.equal(r.json!.session.audio.input.turn_detection?.type ?? null, want, model);
      }
      const bad = await post(
        emu,
        "/v1/realtime/client_secrets",
        {},
        "sk-wrong-key-123456",
      );
      assert.equal(bad.status, 401);
      assertEnvelope(bad.json, "invalid_api_key", null);
      const none = await post(emu, "/v1/realtime/client_secrets", {}, null);
      assert.equal(none.status, 401);
    } finally {
      await emu.close();
    }
  },
);

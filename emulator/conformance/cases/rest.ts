/**
 * `POST /v1/realtime/client_secrets` (protocol reference §1, §5): shapes with every default
 * filled, validation errors per option and model, the per-model turn-detection rule, auth, and the
 * `x-request-id` header.
 *
 * @module
 */
import type { Case } from "../types.ts";
import type { RestAnswer } from "../context.ts";
import { MODELS } from "../../../lib/models.ts";

const LOGPROBS = "item.input_audio_transcription.logprobs";

/**
 * The error of an answer as `status code param` (what the tables compare), with a note when the
 * envelope is not OpenAI's `{error:{message,type,param,code}}` with `type: invalid_request_error`.
 */
export function errorOf(r: RestAnswer): string {
  const e = r.json?.error;
  const keys = Object.keys(e ?? {}).sort().join(",");
  const shape = keys === "code,message,param,type" && e.type === "invalid_request_error"
    ? ""
    : ` (envelope ${keys || "none"}, type ${e?.type})`;
  return `${r.status} ${e?.code ?? "null"} ${e?.param ?? "null"}${shape}`;
}

function transcription(input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { session: { type: "transcription", audio: { input }, ...extra } };
}

/** Error cases: body, expected `status code param`, source. */
const ERRORS: [string, unknown, string, string][] = [
  [
    "top-level `type` (belongs in `session`)",
    { type: "transcription" },
    "400 unknown_parameter type",
    "§1.1 [LIVE openai-agents-js#406]",
  ],
  [
    "unknown session field",
    { session: { type: "transcription", bogus: 1 } },
    "400 unknown_parameter session.bogus",
    "§1.3 [LIVE]",
  ],
  [
    "beta field name `input_audio_format`",
    { session: { type: "transcription", input_audio_format: "pcm16" } },
    "400 unknown_parameter session.input_audio_format",
    "§6.5 [LIVE]",
  ],
  [
    "session without `type`",
    { session: {} },
    "400 missing_required_parameter session.type",
    "§5.1 [LIVE message; code INFER]",
  ],
  [
    "unknown session type",
    { session: { type: "speech" } },
    "400 invalid_value session.type",
    "§1.3 [INFER]",
  ],
  [
    "expires_after.seconds below 10",
    { expires_after: { seconds: 9 } },
    "400 integer_below_min_value expires_after.seconds",
    "§1.3 [INFER from the documented range]",
  ],
  [
    "expires_after.seconds above 7200",
    { expires_after: { seconds: 7201 } },
    "400 integer_above_max_value expires_after.seconds",
    "§1.3 [INFER]",
  ],
  [
    "expires_after.anchor other than created_at",
    { expires_after: { anchor: "now" } },
    "400 invalid_value expires_after.anchor",
    "§1.1 [SDK]",
  ],
  [
    "beta format string pcm16",
    transcription({ format: { type: "pcm16" } }),
    "400 invalid_value session.audio.input.format.type",
    "§5.1 [LIVE pattern; param INFER]",
  ],
  [
    "rate 16000",
    transcription({ format: { type: "audio/pcm", rate: 16000 } }),
    "400 integer_below_min_value session.audio.input.format.rate",
    "§5.1 [LIVE]",
  ],
  [
    "unknown transcription model",
    transcription({ transcription: { model: "nope" } }),
    "400 invalid_value session.audio.input.transcription.model",
    "§1.3 [INFER]",
  ],
  [
    "server_vad for gpt-live-transcribe",
    transcription({
      transcription: { model: "gpt-live-transcribe" },
      turn_detection: { type: "server_vad" },
    }),
    "400 invalid_value session.audio.input.turn_detection",
    "2026-12 update [DOC realtime-vad guide; LIVE 400 body]",
  ],
  [
    "semantic_vad for gpt-realtime-whisper",
    transcription({
      transcription: { model: "gpt-realtime-whisper" },
      turn_detection: { type: "semantic_vad" },
    }),
    "400 invalid_value session.audio.input.turn_detection",
    "2026-12 update [DOC realtime-vad guide]",
  ],
  [
    "prompt with gpt-realtime-whisper",
    transcription({
      turn_detection: null,
      transcription: { model: "gpt-realtime-whisper", prompt: "x" },
    }),
    "400 unsupported_parameter session.audio.input.transcription.prompt",
    "2026-11 update [SDK comment; code INFER]",
  ],
  [
    "delay with gpt-4o-transcribe",
    transcription({ transcription: { model: "gpt-4o-transcribe", delay: "low" } }),
    "400 unsupported_parameter session.audio.input.transcription.delay",
    "2026-11 update [SDK comment; code INFER]",
  ],
  [
    "keywords with whisper-1",
    transcription({ transcription: { model: "whisper-1", keywords: ["a"] } }),
    "400 unsupported_parameter session.audio.input.transcription.keywords",
    "2026-11 update [SDK comment; code INFER]",
  ],
  [
    "a transcription model as the realtime session model",
    { session: { type: "realtime", model: "gpt-4o-transcribe" } },
    "400 invalid_value session.model",
    "§1.3 [LIVE wording bifrost#6095; code INFER]",
  ],
];

export const REST_CASES: readonly Case[] = [
  {
    id: "rest.secret.transcription_defaults",
    title: "A transcription secret: ek_ value, expiry, the effective session with every default",
    source: "§1.2, §5.1 [LIVE capture 2026-09-18]",
    async run(ctx) {
      const before = Math.floor(Date.now() / 1000);
      const r = await ctx.mint({ type: "transcription" });
      ctx.check("status", 200, r.status);
      ctx.match("value", /^ek_[0-9a-f]{32}$/, r.json?.value, "§1.2 [DOC example]");
      ctx.check("expires_at ≈ now + 600 s", "within 2 s", r.json?.expires_at, {
        ok: Math.abs(r.json?.expires_at - (before + 600)) <= 2,
        source: "§1.1 [SDK default 600]",
      });
      const s = r.json?.session ?? {};
      ctx.check("session.object", "realtime.transcription_session", s.object);
      ctx.match("session.id", /^sess_/, s.id);
      ctx.check("session.expires_at", 0, s.expires_at, { source: "§1.2 [DOC OpenAPI example]" });
      ctx.check("session.audio.input", {
        format: { type: "audio/pcm", rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: {
          type: "server_vad",
          threshold: 0.5,
          prefix_padding_ms: 300,
          silence_duration_ms: 200,
        },
      }, s.audio?.input);
      ctx.check("session.include", null, s.include);
    },
  },
  {
    id: "rest.secret.realtime_defaults",
    title: "No session: a default realtime session; the shortest lifetime (10 s) is accepted",
    source: "§1.2 [DOC OpenAPI example]",
    async run(ctx) {
      const r = await ctx.mint(undefined, { expires_after: { anchor: "created_at", seconds: 10 } });
      ctx.check("status", 200, r.status);
      const s = r.json?.session ?? {};
      ctx.check("session.object", "realtime.session", s.object);
      ctx.check("session.model", "gpt-realtime", s.model);
      ctx.check("session.max_output_tokens", "inf", s.max_output_tokens);
      ctx.check(
        "turn_detection.create_response",
        true,
        s.audio?.input?.turn_detection?.create_response,
      );
      ctx.check("audio.output.voice", "alloy", s.audio?.output?.voice);
    },
  },
  {
    id: "rest.secret.full_transcription",
    title: "gpt-transcribe with keywords, languages, noise reduction and semantic VAD echoed back",
    source: "§5.1, 2026-11 update [SDK]",
    async run(ctx) {
      const r = await ctx.mint({
        type: "transcription",
        audio: {
          input: {
            transcription: { model: "gpt-transcribe", keywords: ["Deno"], languages: ["en"] },
            noise_reduction: { type: "near_field" },
            turn_detection: { type: "semantic_vad" },
          },
        },
        include: [LOGPROBS],
      });
      ctx.check("status", 200, r.status);
      const inp = r.json?.session?.audio?.input ?? {};
      ctx.check(
        "transcription",
        {
          model: "gpt-transcribe",
          language: null,
          prompt: null,
          keywords: ["Deno"],
          languages: ["en"],
        },
        inp.transcription,
        { source: "§5.1 [LIVE echo shape]" },
      );
      ctx.check(
        "noise_reduction (strength 1 when first enabled)",
        {
          type: "near_field",
          strength: 1,
        },
        inp.noise_reduction,
        { source: "2026-11 update [SDK]" },
      );
      ctx.check("turn_detection", { type: "semantic_vad", eagerness: "auto" }, inp.turn_detection);
      ctx.check("include", [LOGPROBS], r.json?.session?.include);
    },
  },
  {
    id: "rest.secret.errors",
    title: "Validation errors: OpenAI's envelope with the code and dotted param",
    source: "§1.3 (envelope and type: [LIVE])",
    async run(ctx) {
      for (const [what, body, expected, source] of ERRORS) {
        const r = await ctx.post("/v1/realtime/client_secrets", body);
        ctx.check(what, expected, errorOf(r), { source });
      }
      const whisper = await ctx.post(
        "/v1/realtime/client_secrets",
        transcription({
          turn_detection: null,
          transcription: { model: "gpt-realtime-whisper", delay: "low" },
        }),
      );
      ctx.check("gpt-realtime-whisper with delay and no turn detection", 200, whisper.status, {
        source: "2026-11 update [SDK]",
      });
    },
  },
  {
    id: "rest.secret.turn_detection_per_model",
    title: "Turn detection follows the model: omitted → server_vad or none; the live refusal text",
    source: "2026-12 update [DOC realtime-vad guide]",
    async run(ctx) {
      for (const m of MODELS) {
        const r = await ctx.post(
          "/v1/realtime/client_secrets",
          transcription({ transcription: { model: m.id } }),
        );
        ctx.check(
          `${m.id}: turn detection omitted`,
          `200 ${m.defaultTurnDetection}`,
          `${r.status} ${r.json?.session?.audio?.input?.turn_detection?.type ?? null}`,
        );
      }
      const refused = await ctx.post(
        "/v1/realtime/client_secrets",
        transcription({
          transcription: { model: "gpt-live-transcribe" },
          turn_detection: { type: "semantic_vad" },
        }),
      );
      ctx.check(
        "refusal message",
        "Turn detection is not supported for this transcription model.",
        refused.json?.error?.message,
        { source: "2026-12 update [LIVE: OpenWhispr#2077, livekit/agents#5779]" },
      );
    },
  },
  {
    id: "rest.secret.auth",
    title: "A wrong or missing key: 401",
    source: "§1.3, §2.5 [LIVE]",
    async run(ctx) {
      const bad = await ctx.post("/v1/realtime/client_secrets", {}, "sk-wrong-key-123456");
      ctx.check("wrong key", "401 invalid_api_key null", errorOf(bad));
      ctx.check("wrong key is not echoed", false, bad.text.includes("sk-wrong-key-123456"), {
        source: "§2.5 [LIVE: the key is masked]",
      });
      const none = await ctx.post("/v1/realtime/client_secrets", {}, null);
      ctx.check("no key", 401, none.status);
    },
  },
  {
    id: "rest.request_id",
    title: "Every REST answer carries x-request-id (the openai SDK's requestID)",
    source: "openai SDK (reads x-request-id into requestID)",
    async run(ctx) {
      const ok = await ctx.mint({ type: "transcription" });
      const bad = await ctx.post("/v1/realtime/client_secrets", { bogus: 1 });
      for (const [what, r] of [["200", ok], ["400", bad]] as const) {
        ctx.match(`x-request-id on a ${what}`, /^req_[0-9a-zA-Z]+$/, r.headers.get("x-request-id"));
      }
      ctx.emulatorOnly(
        "request id shape",
        "req_<32 hex>",
        ok.headers.get("x-request-id"),
        /^req_[0-9a-f]{32}$/.test(ok.headers.get("x-request-id") ?? ""),
      );
    },
  },
];

/**
 * Session configuration: strict validation of transcription and realtime session
 * objects (client_secrets, multipart calls, `session.update`, SIP accept), the
 * effective server representation with every default filled, and per-model rules.
 *
 * @module
 */
import type {
  RealtimeSessionCreateResponse,
  RealtimeTranscriptionSessionCreateResponse,
} from "npm:openai@7.57.0/resources/realtime/client-secrets";
import { findModel, TURN_DETECTION_UNSUPPORTED } from "../lib/models.ts";
import { ApiError } from "./errors.ts";
import { check, invalidValue, s, type Spec } from "./validate.ts";

export {
  LOGPROBS_INCLUDE,
  REALTIME_MODELS,
  STREAMING_MODELS,
  TRANSCRIPTION_MODELS,
} from "./models.ts";
import { LOGPROBS_INCLUDE, REALTIME_MODELS, TRANSCRIPTION_MODELS } from "./models.ts";

/** Effective transcription session (server representation). */
export type TranscriptionSession = RealtimeTranscriptionSessionCreateResponse;
/** Effective realtime session (server representation). */
export type RealtimeSession = RealtimeSessionCreateResponse;
/** Either effective session. */
export type EffectiveSession = TranscriptionSession | RealtimeSession;

const format = s.tagged("type", {
  "audio/pcm": s.object({ type: s.string(), rate: s.int(24000, 24000) }),
  "audio/pcmu": s.object({ type: s.string() }),
  "audio/pcma": s.object({ type: s.string() }),
}, "audio/pcm");

const transcription = s.object({
  model: s.enum(...TRANSCRIPTION_MODELS),
  language: s.nullable(s.string()),
  prompt: s.nullable(s.string()),
  delay: s.enum("minimal", "low", "medium", "high", "xhigh"),
  keywords: s.array(s.string()),
  languages: s.array(s.string()),
});

function turnDetection(sip: boolean): Spec {
  const serverVad: Record<string, Spec> = {
    type: s.string(),
    create_response: s.boolean(),
    interrupt_response: s.boolean(),
    idle_timeout_ms: s.nullable(s.int(5000, 30000)),
  };
  if (!sip) {
    serverVad.threshold = s.num(0, 1);
    serverVad.prefix_padding_ms = s.int(0);
    serverVad.silence_duration_ms = s.int(0);
  }
  return s.nullable(s.tagged("type", {
    server_vad: s.object(serverVad),
    semantic_vad: s.object({
      type: s.string(),
      eagerness: s.enum("low", "medium", "high", "auto"),
      create_response: s.boolean(),
      interrupt_response: s.boolean(),
    }),
  }));
}

function audioInput(sip: boolean): Spec {
  return s.object({
    format,
    transcription: s.nullable(transcription),
    turn_detection: turnDetection(sip),
    noise_reduction: s.nullable(s.object({
      type: s.enum("near_field", "far_field"),
      strength: s.num(0),
    })),
  });
}

const include = s.nullable(s.array(s.enum(LOGPROBS_INCLUDE)));

/** Spec of a transcription session request. */
export const transcriptionSpec: Spec = s.object({
  type: s.enum("transcription"),
  audio: s.object({ input: audioInput(false) }),
  include,
}, ["type"]);

function realtimeSpec(sip: boolean): Spec {
  return s.object({
    type: s.enum("realtime"),
    model: s.string(),
    instructions: s.string(),
    output_modalities: s.array(s.enum("audio", "text")),
    audio: s.object({
      input: audioInput(sip),
      output: s.object({
        format,
        voice: s.either(
          "a string or an object",
          s.string(),
          s.object({ id: s.string() }, ["id"]),
        ),
        speed: s.num(0.25, 1.5),
      }),
    }),
    include,
    max_output_tokens: s.either(
      "an integer or 'inf'",
      s.int(1, 4096),
      s.enum("inf"),
    ),
    prompt: s.any(),
    reasoning: s.any(),
    tools: s.array(s.any()),
    tool_choice: s.any(),
    tracing: s.any(),
    truncation: s.any(),
    parallel_tool_calls: s.boolean(),
  }, ["type"]);
}

const sessionUnion = s.tagged("type", {
  transcription: transcriptionSpec,
  realtime: realtimeSpec(false),
});

/** Where a session config comes from; decides which rules apply. */
export type SessionSource = "client_secret" | "call" | "update" | "sip_accept";

/** Validation context. */
export interface SchemaContext {
  /** Default server VAD `silence_duration_ms`. */
  defaultSilenceDurationMs: number;
  /** Model used when `transcription` is given without one (default `whisper-1`). */
  defaultTranscriptionModel?: string;
}

// deno-lint-ignore no-explicit-any
type Json = any;

function fillTurnDetection(
  td: Json,
  realtime: boolean,
  ctx: SchemaContext,
): Json {
  if (td === null) return null;
  if (td.type === "semantic_vad") {
    const base: Json = {
      type: "semantic_vad",
      eagerness: td.eagerness ?? "auto",
    };
    if (realtime) {
      base.create_response = td.create_response ?? true;
      base.interrupt_response = td.interrupt_response ?? true;
    }
    return base;
  }
  const base: Json = {
    type: "server_vad",
    threshold: td.threshold ?? 0.5,
    prefix_padding_ms: td.prefix_padding_ms ?? 300,
    silence_duration_ms: td.silence_duration_ms ?? ctx.defaultSilenceDurationMs,
  };
  if (realtime || td.idle_timeout_ms !== undefined) {
    base.idle_timeout_ms = td.idle_timeout_ms ?? null;
  }
  if (realtime) {
    base.create_response = td.create_response ?? true;
    base.interrupt_response = td.interrupt_response ?? true;
  }
  return base;
}

function fillTranscription(t: Json, ctx: SchemaContext): Json {
  if (t === null) return null;
  const out: Json = {
    model: t.model ?? ctx.defaultTranscriptionModel ?? "whisper-1",
    language: t.language ?? null,
    prompt: t.prompt ?? null,
  };
  for (const k of ["delay", "keywords", "languages"]) {
    if (t[k] !== undefined) out[k] = t[k];
  }
  return out;
}

function fillInput(
  cur: Json,
  inp: Json,
  realtime: boolean,
  ctx: SchemaContext,
): Json {
  const out = { ...cur };
  if (!inp) return out;
  if (inp.format !== undefined) {
    const type = inp.format.type ?? "audio/pcm";
    out.format = type === "audio/pcm" ? { type, rate: 24000 } : { type };
  }
  if (inp.transcription !== undefined) {
    out.transcription = fillTranscription(inp.transcription, ctx);
  }
  if (inp.turn_detection !== undefined) {
    out.turn_detection = fillTurnDetection(inp.turn_detection, realtime, ctx);
  }
  if (inp.noise_reduction !== undefined) {
    // Omitting `strength` keeps the current one; it is 1 when first enabled.
    out.noise_reduction = inp.noise_reduction === null ? null : {
      type: inp.noise_reduction.type ?? cur.noise_reduction?.type ??
        "near_field",
      strength: inp.noise_reduction.strength ?? cur.noise_reduction?.strength ??
        1,
    };
  }
  return out;
}

/** The default effective session of a type. */
export function defaultSession(
  type: "transcription" | "realtime",
  ctx: SchemaContext,
  model = "gpt-realtime",
): EffectiveSession {
  const input = {
    format: { type: "audio/pcm", rate: 24000 },
    transcription: null,
    noise_reduction: null,
    turn_detection: fillTurnDetection(
      { type: "server_vad" },
      type === "realtime",
      ctx,
    ),
  };
  if (type === "transcription") {
    return {
      type,
      object: "realtime.transcription_session",
      id: "",
      expires_at: 0,
      audio: { input },
      include: null,
    } as Json;
  }
  return {
    type,
    object: "realtime.session",
    id: "",
    expires_at: 0,
    audio: {
      input,
      output: {
        format: { type: "audio/pcm", rate: 24000 },
        voice: "alloy",
        speed: 1,
      },
    },
    include: null,
    instructions: "",
    max_output_tokens: "inf",
    model,
    output_modalities: ["audio"],
    prompt: null,
    tool_choice: "auto",
    tools: [],
    tracing: null,
    truncation: "auto",
  } as Json;
}

function rejectTranscriptionModelAsSessionModel(
  model: unknown,
  prefix: string,
): void {
  if (typeof model !== "string") return;
  if ((TRANSCRIPTION_MODELS as readonly string[]).includes(model)) {
    throw new ApiError(
      400,
      "invalid_value",
      `Model '${model}' is a transcription model and cannot be used as a realtime session model. Pass it as 'audio.input.transcription.model' instead.`,
      `${prefix}model`,
    );
  }
  if (!(REALTIME_MODELS as readonly string[]).includes(model)) {
    throw invalidValue(`${prefix}model`, model, REALTIME_MODELS);
  }
}

/**
 * Applies the per-model rules of the catalog (`lib/models.ts`, the one definition the app uses
 * too) to an effective session; `prefix` is e.g. `session.`.
 */
export function checkModelRules(eff: EffectiveSession, prefix: string): void {
  const input: Json = eff.audio?.input ?? {};
  const t: Json = input.transcription;
  if (!t) return;
  const info = findModel(t.model);
  if (!info) return;
  const p = `${prefix}audio.input.transcription`;
  const unsupported = (field: string) =>
    new ApiError(
      400,
      "unsupported_parameter",
      `Unsupported parameter: '${p}.${field}' is not supported with the '${info.id}' model.`,
      `${p}.${field}`,
    );
  if (t.delay !== undefined && !info.supports.delay) throw unsupported("delay");
  if (t.keywords !== undefined && !info.supports.keywords) throw unsupported("keywords");
  if (t.languages !== undefined && !info.supports.languages) throw unsupported("languages");
  if (t.prompt !== null && t.prompt !== undefined && !info.supports.prompt) {
    throw unsupported("prompt");
  }
  // The guide's rule is about transcription sessions; a realtime session's VAD drives responses.
  if (
    eff.type === "transcription" && input.turn_detection !== null && !info.supports.turnDetection
  ) {
    const r = TURN_DETECTION_UNSUPPORTED;
    throw new ApiError(400, r.code, r.message, `${prefix}${r.param}`, r.type);
  }
}

/**
 * Turn detection left out of a transcription session follows the model: none for a model without
 * VAD [2026-12 update: "omitted or set to null"], `server_vad` (already the default) otherwise. An
 * update that leaves it out keeps the current one, unless the model it now has takes none.
 */
function defaultTurnDetectionForModel(eff: Json, req: Json): void {
  if (eff.type !== "transcription" || req.audio?.input?.turn_detection !== undefined) return;
  const model = eff.audio.input.transcription?.model;
  const info = model ? findModel(model) : undefined;
  if (info && info.defaultTurnDetection === null) eff.audio.input.turn_detection = null;
}

/**
 * Validates a session request and returns the effective session. With `current`,
 * the request is a `session.update` merged onto it (the whole update is discarded on error).
 */
export function buildSession(
  raw: unknown,
  prefix: string,
  ctx: SchemaContext,
  options: {
    current?: EffectiveSession;
    source: SessionSource;
    defaultType?: "transcription" | "realtime";
  } = {
    source: "client_secret",
  },
): EffectiveSession {
  const path = prefix.endsWith(".") ? prefix.slice(0, -1) : prefix;
  const req: Json = raw ?? { type: options.defaultType ?? "realtime" };
  if (options.source === "sip_accept") {
    check(realtimeSpec(true), req, path);
  } else {
    check(sessionUnion, req, path);
  }
  if (req.type === "realtime" && req.model !== undefined) {
    rejectTranscriptionModelAsSessionModel(req.model, prefix);
  }
  let eff: Json;
  if (options.current) {
    if (options.current.type !== req.type) {
      throw new ApiError(
        400,
        "invalid_value",
        `Cannot change the session type from '${options.current.type}' to '${req.type}'.`,
        `${prefix}type`,
      );
    }
    eff = structuredClone(options.current);
  } else {
    eff = defaultSession(req.type, ctx, req.model ?? "gpt-realtime");
  }
  const realtime = req.type === "realtime";
  eff.audio.input = fillInput(eff.audio.input, req.audio?.input, realtime, ctx);
  if (realtime && req.audio?.output) {
    const o = req.audio.output;
    if (o.format !== undefined) {
      eff.audio.output.format = (o.format.type ?? "audio/pcm") === "audio/pcm"
        ? { type: "audio/pcm", rate: 24000 }
        : { type: o.format.type };
    }
    if (o.voice !== undefined) eff.audio.output.voice = o.voice;
    if (o.speed !== undefined) eff.audio.output.speed = o.speed;
  }
  if (req.include !== undefined) eff.include = req.include;
  if (realtime) {
    for (
      const k of [
        "model",
        "instructions",
        "output_modalities",
        "max_output_tokens",
        "prompt",
        "reasoning",
        "tools",
        "tool_choice",
        "tracing",
        "truncation",
        "parallel_tool_calls",
      ]
    ) if (req[k] !== undefined) eff[k] = req[k];
    const om = eff.output_modalities;
    if (Array.isArray(om) && om.length !== 1) {
      throw new ApiError(
        400,
        "invalid_value",
        "Invalid value for 'output_modalities': exactly one of 'audio' or 'text' must be given.",
        `${prefix}output_modalities`,
      );
    }
  }
  defaultTurnDetectionForModel(eff, req);
  checkModelRules(eff, prefix);
  return eff;
}

/** The transcription model of an effective session, or null when transcription is off. */
export function transcriptionModel(eff: EffectiveSession): string | null {
  return (eff.audio?.input?.transcription as Json)?.model ?? null;
}

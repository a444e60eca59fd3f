/**
 * The user's transcription options (validated with zod, checked against the model catalog) and
 * the GA transcription session built from them. Two builds exist: the PUBLIC session bound to the
 * ephemeral key (no server-private settings), and the PRIVATE `session.update` the sideband pushes
 * (adds `TRANSCRIPTION_PROMPT`, only for models that accept a prompt).
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type {
  AudioTranscription,
  RealtimeTranscriptionSessionCreateRequest,
} from "./openai_types.ts";
import { describeIssue } from "./api_errors.ts";
import { findModel, MODELS } from "./models.ts";

const languageCode = z.string().regex(
  /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/,
  'Expected an ISO-639-1 language code such as "en"',
);

/** The options a page may send to `POST /api/session`. Unknown fields are rejected. */
export const SessionOptionsSchema = z.strictObject({
  model: z.string().min(1).max(100).optional(),
  language: languageCode.optional(),
  languages: z.array(languageCode).min(1).max(10).optional(),
  prompt: z.string().max(2000).optional(),
  keywords: z.array(z.string().trim().min(1).max(100)).max(100).optional(),
  turnDetection: z.strictObject({
    type: z.enum(["server_vad", "semantic_vad", "none"]),
    threshold: z.number().min(0).max(1).optional(),
    prefixPaddingMs: z.number().int().min(0).max(5000).optional(),
    silenceDurationMs: z.number().int().min(0).max(10_000).optional(),
    eagerness: z.enum(["low", "medium", "high", "auto"]).optional(),
  }).optional(),
  noiseReduction: z.enum(["near", "far", "off"]).optional(),
  noiseReductionStrength: z.number().min(0).max(1).optional(),
  logprobs: z.boolean().optional(),
  delay: z.enum(["minimal", "low", "medium", "high", "xhigh"]).optional(),
});

/** Options as sent by the page. */
export type SessionOptionsInput = z.input<typeof SessionOptionsSchema>;

/** Options after validation and defaults; stored as the session's `settings`. */
export interface SessionSettings {
  model: string;
  language: string | null;
  languages: string[] | null;
  prompt: string | null;
  keywords: string[] | null;
  turnDetection:
    | {
      type: "server_vad";
      threshold?: number;
      prefixPaddingMs?: number;
      silenceDurationMs?: number;
    }
    | { type: "semantic_vad"; eagerness?: "low" | "medium" | "high" | "auto" }
    | { type: "none" };
  noiseReduction: "near" | "far" | "off";
  noiseReductionStrength: number | null;
  logprobs: boolean;
  delay: "minimal" | "low" | "medium" | "high" | "xhigh" | null;
}

/** An invalid option; `field` is the dotted path of the offending field. */
export class SessionOptionsError extends Error {
  /** Dotted path of the field, e.g. `turnDetection.eagerness`. */
  field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "SessionOptionsError";
    this.field = field;
  }
}

/** Options for {@linkcode resolveSessionOptions}. */
export interface ResolveOptions {
  /** Model used when the page names none (`config.defaultModel`). */
  defaultModel: string;
}

/**
 * Validates the page's options and applies defaults. Throws {@linkcode SessionOptionsError} naming
 * the field for bad values and for combinations the model does not support.
 */
export function resolveSessionOptions(
  input: unknown,
  options: ResolveOptions,
): SessionSettings {
  // An empty body means "all defaults" (readJsonBody gives {}); a JSON null is not an options object.
  const parsed = SessionOptionsSchema.safeParse(input === undefined ? {} : input);
  if (!parsed.success) {
    const { field, message } = describeIssue(parsed.error);
    throw new SessionOptionsError(field, message);
  }
  const o = parsed.data;
  const modelId = o.model ?? options.defaultModel;
  const model = findModel(modelId);
  if (!model) {
    throw new SessionOptionsError(
      "model",
      `Unknown model "${modelId}": choose one of ${MODELS.map((m) => m.id).join(", ")}`,
    );
  }
  const unsupported = (field: string, what: string) =>
    new SessionOptionsError(
      field,
      `Model "${model.id}" does not support ${what}`,
    );
  if (
    o.prompt !== undefined && o.prompt.trim() !== "" && !model.supports.prompt
  ) {
    throw unsupported("prompt", "a prompt");
  }
  if (o.keywords?.length && !model.supports.keywords) {
    throw unsupported("keywords", "keywords");
  }
  if (o.languages !== undefined && !model.supports.languages) {
    throw unsupported("languages", "a list of possible languages");
  }
  if (o.delay !== undefined && !model.supports.delay) {
    throw unsupported("delay", "delay");
  }
  if (o.logprobs && !model.supports.logprobs) {
    throw unsupported("logprobs", "logprobs (confidence)");
  }
  const td = o.turnDetection ??
    { type: model.supports.turnDetection ? "server_vad" : "none" };
  if (td.type !== "none" && !model.supports.turnDetection) {
    // OpenAI refuses any VAD for these models (lib/models.ts, TURN_DETECTION_UNSUPPORTED).
    throw new SessionOptionsError(
      "turnDetection",
      `Model "${model.id}" takes no server turn detection: use turnDetection "none" (the page commits turns)`,
    );
  }
  if (td.type !== "none" && !model.supports.turnDetectionTypes.includes(td.type)) {
    throw unsupported("turnDetection.type", `turn detection "${td.type}"`);
  }
  let turnDetection: SessionSettings["turnDetection"];
  if (td.type === "server_vad") {
    if (td.eagerness !== undefined) {
      throw new SessionOptionsError(
        "turnDetection.eagerness",
        'Eagerness applies only to turn detection "semantic_vad"',
      );
    }
    turnDetection = {
      type: "server_vad",
      ...(td.threshold !== undefined ? { threshold: td.threshold } : {}),
      ...(td.prefixPaddingMs !== undefined ? { prefixPaddingMs: td.prefixPaddingMs } : {}),
      ...(td.silenceDurationMs !== undefined ? { silenceDurationMs: td.silenceDurationMs } : {}),
    };
  } else {
    for (
      const k of ["threshold", "prefixPaddingMs", "silenceDurationMs"] as const
    ) {
      if (td[k] !== undefined) {
        throw new SessionOptionsError(
          `turnDetection.${k}`,
          `"${k}" applies only to turn detection "server_vad"`,
        );
      }
    }
    if (td.type === "semantic_vad") {
      turnDetection = {
        type: "semantic_vad",
        ...(td.eagerness !== undefined ? { eagerness: td.eagerness } : {}),
      };
    } else {
      if (td.eagerness !== undefined) {
        throw new SessionOptionsError(
          "turnDetection.eagerness",
          'Eagerness applies only to turn detection "semantic_vad"',
        );
      }
      turnDetection = { type: "none" };
    }
  }
  if (o.noiseReductionStrength !== undefined && !model.supports.noiseReductionStrength) {
    throw unsupported("noiseReductionStrength", "a noise reduction strength");
  }
  const noiseReduction = o.noiseReduction ?? "off";
  if (o.noiseReductionStrength !== undefined && noiseReduction === "off") {
    throw new SessionOptionsError(
      "noiseReductionStrength",
      'A noise reduction strength needs noiseReduction "near" or "far"',
    );
  }
  return {
    model: model.id,
    language: o.language ?? null,
    languages: o.languages ?? null,
    prompt: o.prompt?.trim() ? o.prompt : null,
    keywords: o.keywords?.length ? o.keywords : null,
    turnDetection,
    noiseReduction,
    noiseReductionStrength: o.noiseReductionStrength ?? null,
    logprobs: o.logprobs ?? false,
    delay: o.delay ?? null,
  };
}

/** True when the page (not the server's VAD) must commit turns with `input_audio_buffer.commit`. */
export function clientCommits(settings: SessionSettings): boolean {
  return settings.turnDetection.type === "none";
}

/** Options for {@linkcode buildTranscriptionSession}. */
export interface BuildSessionOptions {
  /** Server-private prompt (`TRANSCRIPTION_PROMPT`); never put into the public session. */
  privatePrompt?: string | null;
}

/**
 * Builds the GA transcription session. Without `privatePrompt` it is the public session bound to
 * the ephemeral key; with it, the sideband's `session.update` payload.
 */
export function buildTranscriptionSession(
  settings: SessionSettings,
  options: BuildSessionOptions = {},
): RealtimeTranscriptionSessionCreateRequest {
  const model = findModel(settings.model);
  const transcription: AudioTranscription = { model: settings.model };
  if (settings.language) transcription.language = settings.language;
  if (settings.languages) transcription.languages = settings.languages;
  if (settings.keywords) transcription.keywords = settings.keywords;
  if (settings.delay) transcription.delay = settings.delay;
  const prompts = [
    model?.supports.prompt ? options.privatePrompt?.trim() : undefined,
    settings.prompt?.trim(),
  ].filter((p): p is string => !!p);
  if (prompts.length) transcription.prompt = prompts.join("\n\n");
  const td = settings.turnDetection;
  const session: RealtimeTranscriptionSessionCreateRequest = {
    type: "transcription",
    audio: {
      input: {
        format: { type: "audio/pcm", rate: 24000 },
        transcription,
        turn_detection: td.type === "none" ? null : td.type === "semantic_vad"
          ? {
            type: "semantic_vad",
            ...(td.eagerness ? { eagerness: td.eagerness } : {}),
          }
          : {
            type: "server_vad",
            ...(td.threshold !== undefined ? { threshold: td.threshold } : {}),
            ...(td.prefixPaddingMs !== undefined ? { prefix_padding_ms: td.prefixPaddingMs } : {}),
            ...(td.silenceDurationMs !== undefined
              ? { silence_duration_ms: td.silenceDurationMs }
              : {}),
          },
      },
    },
  };
  if (settings.noiseReduction !== "off") {
    // Omitted means "off" (the API's default is null).
    session.audio!.input!.noise_reduction = {
      type: settings.noiseReduction === "near" ? "near_field" : "far_field",
      ...(settings.noiseReductionStrength !== null
        ? { strength: settings.noiseReductionStrength }
        : {}),
    };
  }
  if (settings.logprobs) {
    session.include = ["item.input_audio_transcription.logprobs"];
  }
  return session;
}

/** True when the sideband has server-private settings to push for this session. */
export function hasPrivateSettings(
  settings: SessionSettings,
  privatePrompt: string | null,
): boolean {
  return !!privatePrompt?.trim() &&
    !!findModel(settings.model)?.supports.prompt;
}

/**
 * Translation sessions (`type: "translation"`, Realtime Translation API): strict validation of the
 * `session` of `POST /v1/realtime/translations/client_secrets` and of `session.update`, and the
 * effective session with every default filled. Names and shapes follow the `openai` package
 * (`RealtimeTranslationSessionCreateRequest`, `…UpdateRequest`, `RealtimeTranslationSession`);
 * `audio.output.language` is checked against `lib/translation_languages.ts`.
 *
 * @module
 */
import type { RealtimeTranslationSession } from "../lib/openai_types.ts";
import { TRANSLATION_LANGUAGE_CODES, TRANSLATION_MODEL } from "../lib/translation_languages.ts";
import { ApiError } from "./errors.ts";
import { TRANSCRIPTION_MODELS } from "./models.ts";
import { check, invalidValue, s, type Spec } from "./validate.ts";

/** The effective translation session (server representation). */
export type TranslationSessionObject = RealtimeTranslationSession;

/** Models accepted as a translation session's `model`. */
export const TRANSLATION_MODELS: readonly string[] = [TRANSLATION_MODEL];

/** What the emulator's options decide about translation sessions. */
export interface TranslationRules {
  /** `"listed"`: `audio.output.language` must be in the documented list; `"any"`: any string. */
  languages: "listed" | "any";
  /** Output language when none is given. */
  defaultLanguage: string;
  /**
   * `"output_language"`: `session.update` may change `audio.output.language` only;
   * `"sdk"`: also `audio.input.transcription` and `audio.input.noise_reduction`, as the `openai`
   * package's `RealtimeTranslationSessionUpdateEvent` comment says.
   */
  updatable: "output_language" | "sdk";
}

const noiseReduction = s.nullable(s.object({
  type: s.enum("near_field", "far_field"),
  strength: s.num(0),
}, ["type"]));

const transcription = s.nullable(s.object({
  model: s.enum(...TRANSCRIPTION_MODELS),
}, ["model"]));

const audio = s.object({
  input: s.object({ noise_reduction: noiseReduction, transcription }),
  output: s.object({ language: s.string() }),
});

/** Spec of `RealtimeTranslationSessionCreateRequest`: no `type`, `model` required. */
const createSpec: Spec = s.object({ model: s.string(), audio }, ["model"]);

/** Spec of `RealtimeTranslationSessionUpdateRequest`: `audio` only. */
const updateSpec: Spec = s.object({ audio });

// deno-lint-ignore no-explicit-any
type Json = any;

function checkLanguage(language: unknown, path: string, rules: TranslationRules): void {
  if (language === undefined || rules.languages === "any") return;
  if (!TRANSLATION_LANGUAGE_CODES.includes(language as string)) {
    throw invalidValue(path, language, TRANSLATION_LANGUAGE_CODES);
  }
}

function fillNoiseReduction(nr: Json, current: Json): Json {
  if (nr === null) return null;
  // Omitting `strength` keeps the current one; it is 1 when first enabled.
  return { type: nr.type, strength: nr.strength ?? current?.strength ?? 1 };
}

/**
 * Validates a create request and returns the effective session (id and `expires_at` still empty).
 *
 * @param raw The request's `session`.
 * @param prefix Dotted prefix of error params, e.g. `session.`.
 * @param rules Language list and defaults.
 * @returns The effective session.
 * @throws {ApiError} The first problem, the way OpenAI reports it.
 */
export function buildTranslationSession(
  raw: unknown,
  prefix: string,
  rules: TranslationRules,
): TranslationSessionObject {
  const path = prefix.endsWith(".") ? prefix.slice(0, -1) : prefix;
  check(createSpec, raw, path);
  const req = raw as Json;
  if (!TRANSLATION_MODELS.includes(req.model)) {
    throw invalidValue(`${prefix}model`, req.model, TRANSLATION_MODELS);
  }
  const language = req.audio?.output?.language;
  checkLanguage(language, `${prefix}audio.output.language`, rules);
  const input = req.audio?.input ?? {};
  return {
    id: "",
    type: "translation",
    model: req.model,
    expires_at: 0,
    audio: {
      input: {
        noise_reduction: input.noise_reduction === undefined
          ? null
          : fillNoiseReduction(input.noise_reduction, null),
        transcription: input.transcription === undefined
          ? null
          : input.transcription === null
          ? null
          : { model: input.transcription.model },
      },
      output: { language: language ?? rules.defaultLanguage },
    },
  };
}

/** The session of a connection that named only its model (`?model=` WebSocket). */
export function defaultTranslationSession(
  model: string,
  rules: TranslationRules,
): TranslationSessionObject {
  return buildTranslationSession({ model }, "", rules);
}

/**
 * Validates a `session.update`'s `session` and merges it onto `current` (the whole update is
 * discarded on any error).
 *
 * @param raw The event's `session`.
 * @param current The effective session now.
 * @param rules Which fields may change.
 * @returns The new effective session.
 * @throws {ApiError} The first problem (`session.…` params).
 */
export function updateTranslationSession(
  raw: unknown,
  current: TranslationSessionObject,
  rules: TranslationRules,
): TranslationSessionObject {
  check(updateSpec, raw, "session");
  const req = raw as Json;
  const input = req.audio?.input;
  if (input !== undefined && rules.updatable === "output_language") {
    const field = Object.keys(input)[0];
    throw new ApiError(
      400,
      "unsupported_parameter",
      `Unsupported parameter: only 'session.audio.output.language' can be changed in a translation session.`,
      field ? `session.audio.input.${field}` : "session.audio.input",
    );
  }
  const language = req.audio?.output?.language;
  checkLanguage(language, "session.audio.output.language", rules);
  const next = structuredClone(current) as Json;
  if (language !== undefined) next.audio.output = { ...next.audio.output, language };
  if (input?.transcription !== undefined) {
    next.audio.input.transcription = input.transcription === null
      ? null
      : { model: input.transcription.model };
  }
  if (input?.noise_reduction !== undefined) {
    next.audio.input.noise_reduction = fillNoiseReduction(
      input.noise_reduction,
      current.audio.input?.noise_reduction,
    );
  }
  return next;
}

/** The output language of an effective session. */
export function outputLanguage(session: TranslationSessionObject): string {
  return session.audio.output?.language ?? "";
}

/** Whether input (source-language) transcription is configured. */
export function inputTranscription(session: TranslationSessionObject): boolean {
  return session.audio.input?.transcription != null;
}

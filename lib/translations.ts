/**
 * Live translation of a session (the Realtime Translation API, `gpt-realtime-translate`): the
 * `translations` option of `POST /api/session`, the translation keys and calls the server asks
 * OpenAI for, and the batches of translated text the page posts back so the server stays the
 * record (a translation call takes no sideband).
 *
 * Each language is one more live call: it counts against the concurrency and mint limits and its
 * minutes against the daily budgets ({@linkcode callsOf}: 1 + the number of languages).
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type { Config } from "./config.ts";
import type { RealtimeTranslationClientSecretCreateResponse } from "./openai_types.ts";
import {
  TRANSLATION_LANGUAGE_CODES,
  TRANSLATION_MODEL,
  translationLanguage,
} from "./translation_languages.ts";
import { redactSecrets, UpstreamError, upstreamErrorFor, type UpstreamLog } from "./upstream.ts";
import { callIdFromLocation } from "../shared/call_id.js";

/** Translated text rows a session may hold (the page posts deltas; each is a row). */
export const MAX_TRANSLATION_DELTAS_PER_SESSION = 20_000;
/** Deltas in one `POST /api/sessions/:id/translations` batch. */
export const MAX_DELTAS_PER_BATCH = 200;
/** Translation calls one language of one session may start through the relay (retries included). */
export const MAX_TRANSLATION_CALLS_PER_LANGUAGE = 20;

/** One output language code, checked against `lib/translation_languages.ts`. */
export const TranslationLanguageSchema = z.string().refine(
  (code) => TRANSLATION_LANGUAGE_CODES.includes(code),
  { message: `Must be one of ${TRANSLATION_LANGUAGE_CODES.join(", ")}` },
);

/**
 * The `translations` option: distinct language codes, at most `max`.
 *
 * @param max `config.maxTranslations`
 */
export function translationsOption(max: number) {
  return z.array(TranslationLanguageSchema).max(max, {
    message: max === 0
      ? "This server translates nothing (MAX_TRANSLATIONS=0)"
      : `At most ${max} languages (MAX_TRANSLATIONS)`,
  }).refine((codes) => new Set(codes).size === codes.length, {
    message: "A language is listed twice",
  }).default([]);
}

/**
 * Splits `translations` off a `POST /api/session` body (the rest is the transcription options).
 *
 * @returns the languages, or the message for a 400 naming `translations`
 */
export function takeTranslations(
  body: unknown,
  max: number,
): { ok: true; languages: string[]; rest: unknown } | { ok: false; message: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: true, languages: [], rest: body };
  }
  const { translations, ...rest } = body as Record<string, unknown>;
  const parsed = translationsOption(max).safeParse(translations);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `translations.${issue.path.join(".")}` : "translations";
    return { ok: false, message: `Invalid value for "${where}": ${issue.message}` };
  }
  return { ok: true, languages: parsed.data, rest };
}

/** The live calls a session with these translation languages holds (transcription + one each). */
export function callsOf(languages: readonly string[]): number {
  return 1 + languages.length;
}

/** The translation languages recorded in a session's settings. */
export function sessionTranslations(settings: Record<string, unknown>): string[] {
  const t = settings.translations;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [];
}

/** One language of the `POST /api/session` answer. */
export interface TranslationTarget {
  language: string;
  /** English name, for labels. */
  name: string;
  /** `ek_…` of a translation session in this language; null with `SIGNALING=relay`. */
  ephemeralKey: string | null;
  /** Where the page posts its raw SDP offer with that key; null: `relayUrl` instead. */
  url: string | null;
  /** Our relay for this language (`POST`, `{ticket, sdp}`): every call with SIGNALING=relay. */
  relayUrl: string;
  /** Unix seconds the key is good until (null without a key). */
  expiresAt: number | null;
}

/** The translation session the server mints for one language (set at mint time, as advised). */
export function translationSession(language: string) {
  return { model: TRANSLATION_MODEL, audio: { output: { language } } };
}

/** Where {@linkcode TranslationTarget.relayUrl} points. */
export function relayUrlOf(language: string): string {
  return `/api/calls/translation?lang=${encodeURIComponent(language)}`;
}

/** What minting and relaying need. */
export interface TranslationUpstream {
  config: Pick<Config, "openaiApiKey" | "openaiBaseUrl" | "ephemeralKeyTtlSeconds">;
  fetch?: typeof fetch;
  log?: UpstreamLog;
}

async function post(
  deps: TranslationUpstream,
  path: string,
  init: { body: string; contentType: string; bearer?: string },
  what: string,
): Promise<Response> {
  const key = init.bearer ?? deps.config.openaiApiKey;
  if (!key) throw new UpstreamError(503, "missing_api_key", "The server has no OPENAI_API_KEY set");
  // A timer cleared here (not AbortSignal.timeout), so none outlives the request.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    return await (deps.fetch ?? fetch)(`${deps.config.openaiBaseUrl}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": init.contentType },
      body: init.body,
      redirect: "manual",
      signal: controller.signal,
    });
  } catch (err) {
    throw new UpstreamError(
      503,
      "upstream_unreachable",
      `Cannot reach OpenAI for ${what}: ${redactSecrets(String((err as Error)?.message ?? err))}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `POST /v1/realtime/translations/client_secrets` for one language.
 *
 * @returns the key and its expiry (unix seconds)
 */
export async function mintTranslationKey(
  deps: TranslationUpstream,
  language: string,
): Promise<{ value: string; expiresAt: number }> {
  const what = `minting a ${translationLanguage(language)?.name ?? language} translation key`;
  const res = await post(deps, "/v1/realtime/translations/client_secrets", {
    contentType: "application/json",
    body: JSON.stringify({
      expires_after: { anchor: "created_at", seconds: deps.config.ephemeralKeyTtlSeconds },
      session: translationSession(language),
    }),
  }, what);
  if (!res.ok) throw await upstreamErrorFor(res, what, deps.log);
  const body = await res.json().catch(() => null) as
    | RealtimeTranslationClientSecretCreateResponse
    | null;
  if (!body || typeof body.value !== "string" || typeof body.expires_at !== "number") {
    throw new UpstreamError(502, "upstream_invalid_response", `OpenAI sent no key ${what}`);
  }
  return { value: body.value, expiresAt: body.expires_at };
}

/**
 * Relays one translation offer: mints a key for `language`, then posts the raw SDP (the
 * translation calls endpoint takes no multipart form) with it.
 */
export async function createTranslationCall(
  deps: TranslationUpstream,
  language: string,
  sdp: string,
): Promise<{ sdp: string; callId: string }> {
  const key = await mintTranslationKey(deps, language);
  const what = "creating the translation call";
  const res = await post(deps, "/v1/realtime/translations/calls", {
    contentType: "application/sdp",
    body: sdp,
    bearer: key.value,
  }, what);
  if (res.status !== 201 && res.status !== 200) {
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new UpstreamError(502, "upstream_rejected", `OpenAI redirected ${what}`, res.status);
    }
    throw await upstreamErrorFor(res, what, deps.log);
  }
  const answer = await res.text();
  const callId = callIdFromLocation(res.headers.get("location"));
  if (!callId) throw new UpstreamError(502, "upstream_invalid_response", `No call id ${what}`);
  return { sdp: answer, callId };
}

/** One translated-text delta as the page posts it. */
export const TranslationDeltaSchema = z.strictObject({
  /** The translation event's `event_id` (idempotency). */
  eventId: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, "Not an event id"),
  language: TranslationLanguageSchema,
  /** `output`: `session.output_transcript.delta`; `input`: `session.input_transcript.delta`. */
  kind: z.enum(["output", "input"]).default("output"),
  text: z.string().max(2000),
  /** The event's `elapsed_ms` (the translation call's own audio clock). */
  elapsedMs: z.number().min(0).max(86_400_000),
  /** `elapsedMs` on the session's clock, as the page estimates it (defaults to `elapsedMs`). */
  atMs: z.number().min(-86_400_000).max(86_400_000).optional(),
  /** The caption line the page placed it under (`item_id`), when it had one. */
  itemId: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, "Not an item id").optional(),
  /** The translation call, when known. */
  callId: z.string().regex(/^rtc_[A-Za-z0-9_]{1,128}$/, "Not a call id").optional(),
});

/** `POST /api/sessions/:id/translations` body. */
export const TranslationBatchBody = z.strictObject({
  ticket: z.string().min(1).max(1024),
  deltas: z.array(TranslationDeltaSchema).min(1).max(MAX_DELTAS_PER_BATCH),
});

/** `?lang=` of the transcript export. */
export const LangQuery = TranslationLanguageSchema;

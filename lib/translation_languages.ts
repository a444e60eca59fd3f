/**
 * The languages OpenAI's Realtime Translation API (`gpt-realtime-translate`) can translate INTO:
 * the values of `session.audio.output.language`. The one list the app (session API, the page's
 * "Translate to" picker, the share viewer) and the emulator check against.
 *
 * Source: OpenAI's cookbook "Build Live Translation Apps with gpt-realtime-translate"
 * (developers.openai.com/cookbook/examples/voice_solutions/realtime_translation_guide, section
 * "Supported languages": 13 output languages, 70+ detected input languages) and its demo apps,
 * which send these two-letter codes (`es`, `pt`, `fr`, `ja`, `ru`, `zh`, `de`, `ko`, `hi`, `id`,
 * `vi`, `it`, `en`). The `openai` package (7.57.0 to 7.59.0) types the field as a plain string, so
 * no enum there can be checked against. The source language is detected, never set.
 *
 * @module
 */

/** One output language of the Translation API. */
export interface TranslationLanguage {
  /** The value of `audio.output.language` (lower-case ISO 639-1). */
  code: string;
  /** English name, for pickers and labels. */
  name: string;
  /** The language's name for itself, so readers find their own language in a picker. */
  nativeName: string;
}

/** The model of the Realtime Translation API (the only one the `openai` package documents). */
export const TRANSLATION_MODEL = "gpt-realtime-translate";

/**
 * What {@linkcode TRANSLATION_MODEL} costs per minute of input audio, in US dollars (OpenAI's
 * model page, as the protocol reference's "Update, 2026-12" quotes it).
 */
export const TRANSLATION_PRICE_PER_MINUTE_USD = 0.034;

/** Where {@linkcode TRANSLATION_LANGUAGES} comes from (shown in docs and error messages). */
export const TRANSLATION_LANGUAGES_SOURCE =
  "OpenAI cookbook 'Build Live Translation Apps with gpt-realtime-translate', section 'Supported languages'";

/** Every supported output language, in the order OpenAI lists them. */
export const TRANSLATION_LANGUAGES: readonly TranslationLanguage[] = Object.freeze([
  { code: "es", name: "Spanish", nativeName: "Español" },
  { code: "pt", name: "Portuguese", nativeName: "Português" },
  { code: "fr", name: "French", nativeName: "Français" },
  { code: "ja", name: "Japanese", nativeName: "日本語" },
  { code: "ru", name: "Russian", nativeName: "Русский" },
  { code: "zh", name: "Chinese", nativeName: "中文" },
  { code: "de", name: "German", nativeName: "Deutsch" },
  { code: "ko", name: "Korean", nativeName: "한국어" },
  { code: "hi", name: "Hindi", nativeName: "हिन्दी" },
  { code: "id", name: "Indonesian", nativeName: "Bahasa Indonesia" },
  { code: "vi", name: "Vietnamese", nativeName: "Tiếng Việt" },
  { code: "it", name: "Italian", nativeName: "Italiano" },
  { code: "en", name: "English", nativeName: "English" },
].map((l) => Object.freeze(l)));

/** The codes of {@linkcode TRANSLATION_LANGUAGES}, in the same order. */
export const TRANSLATION_LANGUAGE_CODES: readonly string[] = Object.freeze(
  TRANSLATION_LANGUAGES.map((l) => l.code),
);

/**
 * Whether `code` is a supported output language (exact, case-sensitive match: the API is sent
 * lower-case codes).
 *
 * @param code A candidate `audio.output.language`.
 * @returns True when it is in {@linkcode TRANSLATION_LANGUAGE_CODES}.
 */
export function isTranslationLanguage(code: unknown): code is string {
  return typeof code === "string" && TRANSLATION_LANGUAGE_CODES.includes(code);
}

/**
 * The language entry for a code.
 *
 * @param code An output language code.
 * @returns The entry, or undefined for an unsupported code.
 */
export function translationLanguage(code: string): TranslationLanguage | undefined {
  return TRANSLATION_LANGUAGES.find((l) => l.code === code);
}

/** What `GET /api/config` tells the page about translation (its picker, limit and price). */
export function translationInfo(max: number, callLimit?: number) {
  return {
    model: TRANSLATION_MODEL,
    max,
    /** Live calls one client may hold at once (`MAX_CONCURRENT_SESSIONS_PER_IP`). */
    callLimit: callLimit ?? null,
    pricePerMinuteUsd: TRANSLATION_PRICE_PER_MINUTE_USD,
    languages: max > 0 ? TRANSLATION_LANGUAGES.map((l) => ({ ...l })) : [],
  };
}

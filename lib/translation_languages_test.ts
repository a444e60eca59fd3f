import assert from "node:assert/strict";
import {
  isTranslationLanguage,
  TRANSLATION_LANGUAGE_CODES,
  TRANSLATION_LANGUAGES,
  translationLanguage,
} from "./translation_languages.ts";

Deno.test("translation languages: OpenAI's 13 output languages, unique lower-case codes", () => {
  assert.equal(TRANSLATION_LANGUAGES.length, 13);
  assert.deepEqual(TRANSLATION_LANGUAGE_CODES, [
    "es",
    "pt",
    "fr",
    "ja",
    "ru",
    "zh",
    "de",
    "ko",
    "hi",
    "id",
    "vi",
    "it",
    "en",
  ]);
  assert.equal(new Set(TRANSLATION_LANGUAGE_CODES).size, 13);
  for (const l of TRANSLATION_LANGUAGES) {
    assert.match(l.code, /^[a-z]{2}$/);
    assert.ok(l.name.length > 0 && l.nativeName.length > 0, l.code);
  }
  assert.ok(Object.isFrozen(TRANSLATION_LANGUAGES) && Object.isFrozen(TRANSLATION_LANGUAGES[0]));
});

Deno.test("translation languages: membership is exact", () => {
  assert.ok(isTranslationLanguage("es"));
  assert.ok(!isTranslationLanguage("ES"));
  assert.ok(!isTranslationLanguage("es-ES"));
  assert.ok(!isTranslationLanguage("nl"));
  assert.ok(!isTranslationLanguage(7));
  assert.equal(translationLanguage("de")?.name, "German");
  assert.equal(translationLanguage("xx"), undefined);
});

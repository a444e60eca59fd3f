import assert from "node:assert/strict";
import { controlForField, languagesProblem } from "./reader.js";

Deno.test("a refused request field maps to the settings control that sets it", () => {
  assert.equal(controlForField("languages.0"), "languages");
  assert.equal(controlForField("prompt"), "prompt");
  assert.equal(controlForField("noiseReduction"), "noise");
  assert.equal(controlForField("turnDetection"), "turn");
  assert.equal(controlForField("turnDetection.eagerness"), "eagerness");
  assert.equal(controlForField("turnDetection.silenceDurationMs"), "silenceMs");
});

Deno.test("possible languages are checked against the codes the page offers", () => {
  const known = ["en", "fr", "de"];
  assert.equal(languagesProblem("", known), null);
  assert.equal(languagesProblem("en, fr", known), null);
  assert.equal(languagesProblem("en,,de ", known), null);
  assert.match(
    languagesProblem("en, xx, english", known) ?? "",
    /^Not a language code: xx, english\./,
  );
});

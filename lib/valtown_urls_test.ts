import assert from "node:assert/strict";
import { valTownEnvVarsUrl } from "./valtown_urls.ts";

Deno.test("valTownEnvVarsUrl() derives the env page from module URLs", () => {
  assert.equal(
    valTownEnvVarsUrl("https://esm.town/v/bob/captions@12-main/main.tsx"),
    "https://www.val.town/x/bob/captions/environment-variables?key=OPENAI_API_KEY",
  );
  assert.equal(valTownEnvVarsUrl("file:///work/main/main.tsx"), null);
  assert.equal(valTownEnvVarsUrl(undefined), null);
});

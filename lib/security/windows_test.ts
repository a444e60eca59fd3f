import assert from "node:assert/strict";
import { secondsToWindowEnd } from "./windows.ts";

Deno.test("secondsToWindowEnd() counts to the end of the fixed window, at least 1 s", () => {
  assert.equal(secondsToWindowEnd(60_000, 120_000), 60);
  assert.equal(secondsToWindowEnd(60_000, 120_001), 60);
  assert.equal(secondsToWindowEnd(60_000, 179_000), 1);
  assert.equal(secondsToWindowEnd(60_000, 179_999), 1);
  assert.equal(secondsToWindowEnd(86_400_000, 0), 86_400);
});

import assert from "node:assert/strict";
import { rotationDelayMs } from "./sideband_rotation.ts";

Deno.test("rotationDelayMs() leaves a margin before the limit", () => {
  assert.equal(rotationDelayMs(60), 50_000);
  assert.equal(rotationDelayMs(5), 3750);
});

import assert from "node:assert/strict";
import { CALL_ID_PATTERN, callIdFromLocation, isCallId } from "./call_id.js";

Deno.test("isCallId accepts rtc_ ids and refuses anything that could change a URL", () => {
  assert.ok(isCallId("rtc_abc123"));
  assert.ok(isCallId("rtc_" + "a".repeat(128)));
  for (
    const bad of ["rtc_", "rtc_" + "a".repeat(129), "rtc_a/../b", "rtc_a?x=1", "call_a", 5, null]
  ) {
    assert.equal(isCallId(bad), false, String(bad));
  }
  assert.equal(CALL_ID_PATTERN.test("rtc_ok"), true);
});

Deno.test("callIdFromLocation takes the last path segment of a relative or absolute Location", () => {
  assert.equal(callIdFromLocation("/v1/realtime/calls/rtc_u1"), "rtc_u1");
  assert.equal(callIdFromLocation("https://api.openai.com/v1/realtime/calls/rtc_u2/"), "rtc_u2");
  assert.equal(callIdFromLocation("/v1/realtime/calls/rtc_u3?x=1"), "rtc_u3");
  assert.equal(callIdFromLocation("/v1/realtime/calls/not-an-id"), null);
  assert.equal(callIdFromLocation(""), null);
  assert.equal(callIdFromLocation(null), null);
});

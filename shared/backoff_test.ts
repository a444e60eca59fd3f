import assert from "node:assert/strict";
import { backoffDelay, retryAfterMs } from "./backoff.js";

Deno.test("backoffDelay doubles its cap per attempt up to maxMs, scaled by the random draw", () => {
  const half = () => 0.5;
  assert.equal(backoffDelay(0, { baseMs: 100, random: half }), 50);
  assert.equal(backoffDelay(2, { baseMs: 100, random: half }), 200);
  assert.equal(backoffDelay(10, { baseMs: 100, maxMs: 1000, random: half }), 500);
  assert.equal(backoffDelay(-3, { baseMs: 100, random: half }), 50);
  assert.equal(backoffDelay(1, { random: () => 0 }), 0);
  const drawn = backoffDelay(3, { baseMs: 100, maxMs: 10_000 });
  assert.ok(drawn >= 0 && drawn < 800, `${drawn}`);
});

Deno.test("retryAfterMs reads delta seconds and HTTP dates, null for anything else", () => {
  const now = Date.parse("2026-12-02T10:00:00Z");
  assert.equal(retryAfterMs("3", now), 3000);
  assert.equal(retryAfterMs(" 1.5 ", now), 1500);
  assert.equal(retryAfterMs("Wed, 02 Dec 2026 10:00:07 GMT", now), 7000);
  assert.equal(retryAfterMs("Wed, 02 Dec 2026 09:00:00 GMT", now), 0);
  for (const bad of [null, undefined, "", "  ", "soon", "-1"]) {
    assert.equal(retryAfterMs(bad, now), null, String(bad));
  }
});

Deno.test("the page's retry timing: backoff and Retry-After as its SDP retries use them", () => {
  assert.equal(backoffDelay(0, { baseMs: 100, random: () => 0.5 }), 50);
  assert.equal(backoffDelay(8, { baseMs: 100, maxMs: 1000, random: () => 0.999 }), 999);
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs("later"), null);
});

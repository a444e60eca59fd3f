import assert from "node:assert/strict";
import { base64url, constantTimeEqual, hmacKey, hmacSign, hmacVerify } from "./hmac.ts";

Deno.test("hmacSign() matches the RFC 4231 test case 2 and hmacVerify() accepts only it", async () => {
  const mac = await hmacSign("Jefe", "what do ya want for nothing?");
  assert.equal(
    Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(""),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assert.equal(await hmacVerify("Jefe", mac, "what do ya want for nothing?"), true);
  assert.equal(await hmacVerify("Jefe", mac, "what do ya want for nothing!"), false);
  assert.equal(await hmacVerify("jefe", mac, "what do ya want for nothing?"), false);
  const tampered = mac.slice();
  tampered[0] ^= 1;
  assert.equal(await hmacVerify("Jefe", tampered, "what do ya want for nothing?"), false);
});

Deno.test("hmacKey() caches text secrets and signs the same with bytes or a key", async () => {
  assert.equal(hmacKey("one"), hmacKey("one"));
  const bytes = new TextEncoder().encode("one");
  assert.deepEqual(await hmacSign(bytes, "m"), await hmacSign("one", "m"));
  assert.deepEqual(await hmacSign(await hmacKey("one"), "m"), await hmacSign("one", "m"));
  assert.equal(base64url(await hmacSign("one", "m")).length, 43);
});

Deno.test("constantTimeEqual() is true only for equal values, whatever their lengths", async () => {
  assert.equal(await constantTimeEqual("secret-value", "secret-value"), true);
  assert.equal(await constantTimeEqual("secret-value", "secret-valuf"), false);
  assert.equal(await constantTimeEqual("secret-value", "secret"), false);
  assert.equal(await constantTimeEqual("", ""), true);
  assert.equal(await constantTimeEqual("a", ""), false);
});

Deno.test("constantTimeEqual() compares exactly", async () => {
  assert.equal(await constantTimeEqual("abc", "abc"), true);
  assert.equal(await constantTimeEqual("abc", "abd"), false);
  assert.equal(await constantTimeEqual("abc", "abcd"), false);
});

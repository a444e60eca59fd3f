import assert from "node:assert/strict";
import { isSessionId, newSessionId } from "./ids.ts";
import { loadConfig } from "../config.ts";
import { openStore } from "./mod.ts";

Deno.test("newSessionId: 22 base64url characters carrying 16 random bytes, never repeated", () => {
  const ids = Array.from({ length: 2000 }, newSessionId);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(isSessionId(id));
    assert.equal(Uint8Array.fromBase64(id, { alphabet: "base64url" }).length, 16);
  }
  // Every bit position varies: no fixed prefix or counter hides in the 128 bits.
  const bytes = ids.map((id) => Uint8Array.fromBase64(id, { alphabet: "base64url" }));
  for (let bit = 0; bit < 128; bit++) {
    const ones = bytes.filter((b) => (b[bit >> 3] >> (bit & 7)) & 1).length;
    assert.ok(ones > 800 && ones < 1200, `bit ${bit} is set in ${ones} of 2000 ids`);
  }
});

Deno.test("isSessionId refuses anything that is not 22 to 64 base64url characters", () => {
  for (
    const bad of [
      "",
      "short",
      "A".repeat(21),
      "A".repeat(65),
      "A".repeat(21) + "=",
      "../" + "A".repeat(22),
    ]
  ) {
    assert.equal(isSessionId(bad), false, bad);
  }
  assert.ok(isSessionId("A".repeat(64)));
});

Deno.test("the store gives every new session an unguessable id unless one is passed", async () => {
  const store = await openStore(await loadConfig({}, { platform: "local" }), { url: ":memory:" });
  try {
    const made = [];
    for (let i = 0; i < 20; i++) {
      made.push((await store.createSession({ source: "webrtc", model: "m", settings: {} })).id);
    }
    assert.equal(new Set(made).size, made.length);
    assert.ok(made.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id)));
  } finally {
    await store.close();
  }
});

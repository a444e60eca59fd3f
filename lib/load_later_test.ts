import assert from "node:assert/strict";
import { loadLater } from "./load_later.ts";

Deno.test("loadLater() imports the module once, on the first call", async () => {
  const load = loadLater<typeof import("./hmac.ts")>(new URL("./hmac.ts", import.meta.url));
  const first = load();
  assert.equal(load(), first, "a second call shares the first import");
  const mod = await first;
  assert.equal(typeof mod.hmacSign, "function");
});

Deno.test("loadLater() does not keep a failed import: the next call imports again", async () => {
  const load = loadLater(new URL("./no_such_module_here.ts", import.meta.url));
  const first = load();
  await assert.rejects(first, /Module not found/);
  const second = load();
  assert.notEqual(second, first, "a failed import is not cached");
  await assert.rejects(second, /Module not found/);
});

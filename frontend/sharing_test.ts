import assert from "node:assert/strict";
import { shareUrl } from "./sharing.js";

Deno.test("shareUrl() is the viewer's path on the page's origin, the id escaped", () => {
  assert.equal(shareUrl("https://x.example", "s_abc"), "https://x.example/s/s_abc");
  assert.equal(shareUrl("http://127.0.0.1:8000", "a/b?c"), "http://127.0.0.1:8000/s/a%2Fb%3Fc");
});

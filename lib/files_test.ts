import assert from "node:assert/strict";
import { createFileReader, FileNotFoundError, isSafePath } from "./files.ts";

Deno.test("createFileReader() reads project files locally", async () => {
  const read = createFileReader({ platform: "local" });
  const text = new TextDecoder().decode(await read("frontend/connection.js"));
  assert.match(text, /oai-events/);
});

Deno.test("createFileReader() refuses paths outside the project and missing files", async () => {
  const read = createFileReader({ platform: "local" });
  for (
    const path of [
      "../etc/passwd",
      "/etc/passwd",
      "frontend/../deno.json",
      "a//b",
      "frontend\\x",
      "nope.js",
    ]
  ) {
    await assert.rejects(read(path), FileNotFoundError, path);
  }
});

Deno.test("isSafePath() accepts plain relative paths only", () => {
  assert.equal(isSafePath("frontend/app.js"), true);
  assert.equal(isSafePath("shared/transcript.js"), true);
  for (
    const bad of ["", ".", "./x", "x/./y", "x/../y", "/x", "x/", "x?y", "x y"]
  ) {
    assert.equal(isSafePath(bad), false, bad);
  }
});

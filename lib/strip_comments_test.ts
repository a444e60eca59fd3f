import assert from "node:assert/strict";
import { stripComments } from "./strip_comments.ts";

Deno.test("stripComments() drops whole-line JS comments and keeps code, strings and templates", () => {
  const src = [
    "// @ts-check",
    "/**",
    " * A doc block.",
    " */",
    "export const url = 'http://x//y'; // trailing comments stay",
    "  /** @type {number} */ const n = 1;",
    "const t = `line one",
    "// not a comment: inside a template",
    "/* nor this */",
    "end`;",
    "const re = /\\/\\//g;",
    "/* one-line block */",
    "export { n, re, t };",
  ].join("\n");
  assert.equal(
    stripComments(src, "js"),
    [
      "export const url = 'http://x//y'; // trailing comments stay",
      " const n = 1;",
      "const t = `line one",
      "// not a comment: inside a template",
      "/* nor this */",
      "end`;",
      "const re = /\\/\\//g;",
      "export { n, re, t };",
    ].join("\n"),
  );
});

Deno.test("stripComments() drops CSS comment blocks but keeps // (not a CSS comment)", () => {
  const css = "/* theme */\n:root { --a: 1; }\n/*\n multi\n*/\na { b: url(//x); }";
  assert.equal(stripComments(css, "css"), ":root { --a: 1; }\na { b: url(//x); }");
});

Deno.test("the parse check below does catch a broken module", async () => {
  const err = await import(`data:text/javascript;base64,${btoa("export const a = ;")}`).then(
    () => null,
    (e) => e,
  );
  assert.match(String(err), /could not be parsed|SyntaxError/);
});

Deno.test("every page module still parses after stripping", async () => {
  const root = new URL("../", import.meta.url);
  for (const dir of ["frontend", "shared"]) {
    for await (const e of Deno.readDir(new URL(`${dir}/`, root))) {
      if (!e.name.endsWith(".js")) continue;
      const text = await Deno.readTextFile(new URL(`${dir}/${e.name}`, root));
      const stripped = stripComments(text, "js");
      assert.ok(stripped.length < text.length || !text.includes("/**"), e.name);
      // Deno parses a module before resolving its imports or running it: only a parse error
      // ("could not be parsed") means stripping broke the file.
      const parseError = await import(
        `data:text/javascript;base64,${new TextEncoder().encode(stripped).toBase64()}`
      ).then(() => null, (err) => /could not be parsed|SyntaxError/.test(String(err)) ? err : null);
      assert.equal(parseError, null, `${dir}/${e.name}`);
    }
  }
});

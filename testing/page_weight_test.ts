/**
 * The page's first load stays small: measured over real HTTP from the running app (the same walk
 * as `bench/page_weight.ts`), the HTML's static module graph must not reach the modules that load
 * on demand, each of those must still be reachable from a dynamic reference, and the first load
 * stays inside its gzip budget (bytes are deterministic).
 */
import assert from "node:assert/strict";
import { startTestApp } from "./server.ts";
import { measurePageWeight, referenceKindsOf, TRIGGERS } from "../bench/page_weight.ts";
import { PAGE_GZIP_BUDGET } from "../bench/page_weight_bench.ts";

/** Modules only some visitors or moments need, and what must load each. */
const ON_DEMAND: Record<string, string> = {
  "/frontend/translations_view.js": TRIGGERS["/frontend/translations_view.js"],
  "/frontend/translations.js": TRIGGERS["/frontend/translations_view.js"],
  "/frontend/translation_calls.js": TRIGGERS["/frontend/translations_view.js"],
  "/shared/translations.js": TRIGGERS["/frontend/translations_view.js"],
  "/frontend/translations.css": TRIGGERS["/frontend/translations.css"],
  "/frontend/vad-worklet.js": TRIGGERS["/frontend/vad-worklet.js"],
  "/frontend/turn_detector.js": TRIGGERS["/frontend/vad-worklet.js"],
  "/shared/formats.js": TRIGGERS["/frontend/sharing.js"],
  "/frontend/sharing.js": TRIGGERS["/frontend/sharing.js"],
  "/frontend/restore.js": TRIGGERS["/frontend/restore.js"],
};

Deno.test("page weight: the first load leaves out what loads on demand", async () => {
  const app = await startTestApp();
  try {
    const w = await measurePageWeight({ baseUrl: app.baseUrl });
    const first = w.files.filter((f) => f.onDemand === null).map((f) => f.path);
    assert.ok(first.includes("/frontend/app.js"), `first load: ${first.join(", ")}`);
    for (const [path, trigger] of Object.entries(ON_DEMAND)) {
      assert.ok(!first.includes(path), `${path} is in the first load`);
      const file = w.files.find((f) => f.path === path);
      assert.ok(file, `${path} is not reachable at all`);
      assert.equal(file.onDemand, trigger, path);
    }
    assert.equal(w.firstLoad.files + w.onDemand.files, w.total.files);
    assert.equal(w.firstLoad.gzipBytes + w.onDemand.gzipBytes, w.total.gzipBytes);
    assert.ok(
      w.firstLoad.gzipBytes <= PAGE_GZIP_BUDGET,
      `first load ${w.firstLoad.gzipBytes} gzip bytes, budget ${PAGE_GZIP_BUDGET}`,
    );
    // The page must not preload them either (a modulepreload counts toward the first load).
    const html = await (await fetch(`${app.baseUrl}/`)).text();
    for (const path of Object.keys(ON_DEMAND)) assert.ok(!html.includes(path), path);
  } finally {
    await app.close();
  }
});

Deno.test("page weight: static and dynamic references are told apart", () => {
  const refs = referenceKindsOf(
    "/a.js",
    `import { x } from "./b.js";\nconst m = await import("./c.js");\n` +
      `new URL("./d.js", import.meta.url);`,
  );
  assert.deepEqual(refs, [
    { url: "./b.js", dynamic: false },
    { url: "./c.js", dynamic: true },
    { url: "./d.js", dynamic: true },
  ]);
});

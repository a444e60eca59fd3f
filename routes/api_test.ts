import assert from "node:assert/strict";
import { API_PREFIXES, createApp } from "../app.ts";
import { apiRoutes } from "./api.ts";
import { setUp } from "../lib/setup.ts";

const underPrefix = (path: string) =>
  API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

Deno.test("every route of routes/api.ts is under a prefix app.ts mounts it at", async () => {
  const deps = await setUp({ env: { OPENAI_API_KEY: "sk-test", DATABASE_URL: ":memory:" } });
  try {
    const paths = apiRoutes(deps).routes.map((r) => r.path);
    assert.ok(paths.length > 10, `few routes: ${paths.length}`);
    for (const path of paths) assert.ok(underPrefix(path), `not under a prefix: ${path}`);
    // And through the composed app: a lazily loaded route answers (not the app's JSON 404).
    const res = await createApp(deps).request("/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    assert.equal(res.status, 400, await res.clone().text());
    assert.notEqual((await res.json()).error?.code, "not_found");
  } finally {
    await deps.store.close();
  }
});

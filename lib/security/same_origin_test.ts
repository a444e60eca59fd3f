import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { isSameOriginRequest, sameOrigin, underPrefix } from "./same_origin.ts";

function app() {
  const a = new Hono();
  a.use(sameOrigin({ prefixes: ["/api", "/auth"] }));
  let writes = 0;
  a.post("/api/session", (c) => c.json({ writes: ++writes }));
  a.delete("/api/sessions/x", (c) => c.json({ writes: ++writes }));
  a.post("/webhooks/openai", (c) => c.json({ ok: true }));
  a.get("/api/session", (c) => c.json({ ok: true }));
  return { a, writes: () => writes };
}

const URL_ = "http://app.example:8000/api/session";

Deno.test("sameOrigin allows same-origin browsers and non-browser clients", async () => {
  const { a, writes } = app();
  for (
    const headers of [
      { Origin: "http://app.example:8000" },
      { "Sec-Fetch-Site": "same-origin", Origin: "http://app.example:8000" },
      { "Sec-Fetch-Site": "none" },
      {}, // curl
    ] as Record<string, string>[]
  ) {
    const res = await a.request(URL_, { method: "POST", headers });
    assert.equal(res.status, 200, JSON.stringify(headers));
  }
  assert.equal(writes(), 4);
});

Deno.test("sameOrigin rejects cross-site writes with 403 JSON and runs no handler", async () => {
  const { a, writes } = app();
  for (
    const headers of [
      { Origin: "https://evil.example" },
      { Origin: "http://app.example:8001" },
      { Origin: "null" },
      { Origin: "http://app.example.evil.example:8000" },
      { "Sec-Fetch-Site": "cross-site", Origin: "http://app.example:8000" },
      { "Sec-Fetch-Site": "same-site" },
      { "Sec-Fetch-Site": "cross-site" },
    ] as Record<string, string>[]
  ) {
    const res = await a.request(URL_, { method: "POST", headers });
    assert.equal(res.status, 403, JSON.stringify(headers));
    const body = await res.json();
    assert.equal(body.error.code, "cross_origin_request");
    const del = await a.request("http://app.example:8000/api/sessions/x", {
      method: "DELETE",
      headers,
    });
    assert.equal(del.status, 403);
  }
  assert.equal(writes(), 0);
});

Deno.test("sameOrigin leaves reads and unguarded prefixes alone", async () => {
  const { a } = app();
  const get = await a.request(URL_, {
    headers: { Origin: "https://evil.example" },
  });
  assert.equal(get.status, 200);
  const hook = await a.request("http://app.example:8000/webhooks/openai", {
    method: "POST",
    headers: { Origin: "https://evil.example" },
  });
  assert.equal(hook.status, 200);
});

Deno.test("isSameOriginRequest accepts a matching Host header behind a proxy", () => {
  const req = new Request("http://127.0.0.1:9000/api/session", {
    method: "POST",
    headers: { Origin: "https://app.web.val.run", Host: "app.web.val.run" },
  });
  assert.equal(isSameOriginRequest(req), true);
});

Deno.test("underPrefix matches whole path segments only", () => {
  assert.equal(underPrefix("/api", ["/api"]), true);
  assert.equal(underPrefix("/api/x", ["/api"]), true);
  assert.equal(underPrefix("/apix", ["/api"]), false);
  assert.equal(underPrefix("/webhooks/openai", ["/webhooks/openai"]), true);
  assert.equal(underPrefix("/webhooks/openaix", ["/webhooks/openai"]), false);
});

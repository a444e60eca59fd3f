import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { hostGuard, isLoopbackHost, OwnOrigin } from "./own_origin.ts";
import { corsPolicy } from "./cors.ts";

Deno.test("isLoopbackHost() knows loopback names and nothing else", () => {
  for (const h of ["localhost", "LOCALHOST", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) {
    assert.equal(isLoopbackHost(h), true, h);
  }
  for (const h of ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "10.0.0.1", ""]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});

Deno.test("OwnOrigin: the self origin never comes from the request", () => {
  const fake = (url: string) => ({ req: { url } }) as never;
  const local = new OwnOrigin({ platform: "local", publicOrigin: null });
  assert.equal(local.forSelf(fake("http://127.0.0.1:9999/x")), null, "unknown until listening");
  local.listening({ hostname: "0.0.0.0", port: 8000 });
  assert.equal(local.forSelf(fake("http://127.0.0.1:9999/x")), "http://127.0.0.1:8000");
  const v6 = new OwnOrigin({ platform: "local", publicOrigin: null });
  v6.listening({ hostname: "::1", port: 8001 });
  assert.equal(v6.forSelf(fake("http://x/")), "http://[::1]:8001");
  const configured = new OwnOrigin({ platform: "valtown", publicOrigin: "https://t.example" });
  assert.equal(configured.forSelf(fake("https://a--1.web.val.run/")), "https://t.example");
  const platform = new OwnOrigin({ platform: "valtown", publicOrigin: null });
  assert.equal(platform.forSelf(fake("https://a--1.web.val.run/p")), "https://a--1.web.val.run");
  assert.equal(platform.allowsHost("anything.example"), true, "Val Town routes by host itself");
  assert.equal(local.allowsHost("evil.example"), false);
  const named = new OwnOrigin({ platform: "local", publicOrigin: "https://dev.example" });
  assert.equal(named.allowsHost("dev.example"), true);
  assert.equal(named.allowsHost("evil.example"), false);
});

Deno.test("hostGuard() and corsPolicy(): foreign hosts 421, every answer names only the own origin", async () => {
  const own = new OwnOrigin({ platform: "local", publicOrigin: null });
  own.listening({ hostname: "127.0.0.1", port: 8000 });
  const app = new Hono();
  app.use(corsPolicy(own), hostGuard(own));
  app.get("/x", (c) => c.json({ ok: true }));
  const ok = await app.request("http://localhost:8000/x");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("access-control-allow-origin"), "http://127.0.0.1:8000");
  assert.equal(ok.headers.get("cross-origin-resource-policy"), "same-origin");
  const foreign = await app.request("http://evil.example/x");
  assert.equal(foreign.status, 421);
  assert.equal((await foreign.json()).error.code, "host_not_allowed");
  assert.equal(foreign.headers.get("access-control-allow-origin"), "http://127.0.0.1:8000");
  const preflight = await app.request("http://localhost:8000/x", {
    method: "OPTIONS",
    headers: {
      Origin: "https://evil.example",
      "Access-Control-Request-Method": "DELETE",
      "Access-Control-Request-Headers": "content-type",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://127.0.0.1:8000");
  assert.equal(preflight.headers.get("access-control-allow-methods"), null);
  assert.equal(preflight.headers.get("access-control-allow-headers"), null);
});

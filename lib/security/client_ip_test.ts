import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { clientIp, clientKey, UNKNOWN_IP } from "./client_ip.ts";
import type { Platform } from "../config.ts";

function app(platform: Platform) {
  const a = new Hono();
  a.get("/", (c) => c.text(clientIp(c, { platform })));
  return a;
}

const env = {
  remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 5555 },
};

Deno.test("clientIp on Val Town takes the first x-forwarded-for hop", async () => {
  const res = await app("valtown").request("/", {
    headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.1" },
  }, env);
  assert.equal(await res.text(), "203.0.113.9");
  const junk = await app("valtown").request("/", {
    headers: { "x-forwarded-for": "<script>, 1.1.1.1" },
  }, env);
  assert.equal(await junk.text(), "192.0.2.7");
});

Deno.test("clientIp locally ignores x-forwarded-for and uses the socket address", async () => {
  const res = await app("local").request("/", {
    headers: { "x-forwarded-for": "203.0.113.9" },
  }, env);
  assert.equal(await res.text(), "192.0.2.7");
  const none = await app("local").request("/");
  assert.equal(await none.text(), UNKNOWN_IP);
});

Deno.test("clientIp reads the real socket address over loopback", async () => {
  const a = app("local");
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    a.fetch,
  );
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
    headers: { "x-forwarded-for": "203.0.113.9" },
  });
  assert.equal(await res.text(), "127.0.0.1");
});

Deno.test("clientKey is stable per secret and hides the address", async () => {
  const a = await clientKey("secret-one-000000", "203.0.113.9");
  assert.equal(a, await clientKey("secret-one-000000", "203.0.113.9"));
  assert.notEqual(a, await clientKey("secret-two-000000", "203.0.113.9"));
  assert.notEqual(a, await clientKey("secret-one-000000", "203.0.113.10"));
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!a.includes("203"));
});

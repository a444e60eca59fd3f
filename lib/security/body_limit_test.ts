import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { bodyLimits } from "./body_limit.ts";

function app() {
  const a = new Hono();
  a.use(bodyLimits({ jsonBytes: 1024, sdpBytes: 4096 }));
  let reads = 0;
  a.post("/x", async (c) => {
    const text = await c.req.text();
    reads++;
    return c.json({ length: text.length });
  });
  return { a, reads: () => reads };
}

Deno.test("bodyLimits passes bodies under the limit", async () => {
  const { a } = app();
  const res = await a.request("/x", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "x".repeat(1000),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { length: 1000 });
});

Deno.test("bodyLimits answers 413 JSON for oversized JSON and SDP bodies", async () => {
  const { a, reads } = app();
  const big = await a.request("/x", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "x".repeat(2000),
  });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, "body_too_large");
  const sdpOk = await a.request("/x", {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: "v=0\r\n".repeat(600),
  });
  assert.equal(sdpOk.status, 200);
  const sdpBig = await a.request("/x", {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: "v=0\r\n".repeat(1000),
  });
  assert.equal(sdpBig.status, 413);
  assert.equal(reads(), 1);
});

Deno.test("bodyLimits also stops a streamed body without Content-Length", async () => {
  const { a } = app();
  const chunk = new TextEncoder().encode("y".repeat(512));
  const stream = new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (let i = 0; i < 8; i++) ctrl.enqueue(chunk);
      ctrl.close();
    },
  });
  const res = await a.request(
    new Request("http://localhost/x", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: stream,
    }),
  );
  assert.equal(res.status, 413);
});

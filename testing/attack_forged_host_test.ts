/**
 * Attack: a forged `Host` header steers the app's request to itself — the one that carries
 * `INTERNAL_SECRET` — to a listener of the attacker's. The app runs locally on loopback; the
 * attacker's listener is another loopback port. The request is written byte by byte over TCP so
 * the `Host` header is exactly what the attacker chose.
 *
 * @module
 */
import assert from "node:assert/strict";
import { postJson, startTestApp, waitFor } from "./server.ts";

/** Sends one HTTP/1.1 request with this exact `Host`; returns the status line's code and body. */
async function rawPost(
  baseUrl: string,
  path: string,
  host: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const { port } = new URL(baseUrl);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const bytes = new TextEncoder().encode(body);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    "Content-Type: application/json",
    `Content-Length: ${bytes.length}`,
    "Connection: close",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  await conn.write(bytes);
  let text = "";
  const buf = new Uint8Array(8192);
  const decoder = new TextDecoder();
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, text: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test({
  name: "a forged Host never receives the internal secret; a foreign Host is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const app = await startTestApp();
    const stolen: { path: string; secret: string | null }[] = [];
    const trap = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      stolen.push({
        path: new URL(req.url).pathname,
        secret: req.headers.get("x-internal-secret"),
      });
      await req.body?.cancel();
      return Response.json({ ok: true });
    });
    try {
      const trapHost = `127.0.0.1:${(trap.addr as Deno.NetAddr).port}`;
      const mint = await postJson(app.baseUrl, "/api/session", {});
      assert.equal(mint.status, 200);
      const callId = "rtc_forgedhost0123456789";
      // The sideband route self-invokes /internal/sideband/<call> with the internal secret.
      const attach = await rawPost(
        app.baseUrl,
        `/api/calls/${callId}/sideband`,
        trapHost,
        JSON.stringify({ ticket: mint.json.ticket }),
      );
      assert.equal(attach.status, 202, attach.text);
      // Wait until the self request went somewhere: to the trap, or to the app itself.
      // Wait until the self request went somewhere: to the trap, or to the app itself, whose
      // registry then runs a sideband for the call.
      await waitFor(() =>
        stolen.length > 0 ||
        app.sidebands.get(callId) !== undefined
      );
      assert.deepEqual(stolen, [], "the attacker's listener got the self request");
      assert.ok(!JSON.stringify(stolen).includes(app.deps.config.internalSecret));

      // DNS rebinding: a page on another name that resolves to 127.0.0.1 is refused outright.
      const rebound = await rawPost(app.baseUrl, "/api/session", "evil.example:80", "{}");
      assert.equal(rebound.status, 421, rebound.text);
      assert.equal(JSON.parse(rebound.text).error.code, "host_not_allowed");
    } finally {
      await trap.shutdown();
      await app.close();
    }
  },
});

/**
 * Standard Webhooks signing against the protocol reference §7.2 test vector.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  deliverWebhook,
  type DeliveryAttempt,
  generateWebhookSecret,
  secretKeyBytes,
  signWebhook,
  webhookHeaders,
} from "./webhook_sender.ts";

const BODY =
  '{"object":"event","id":"evt_test_0001","type":"realtime.call.incoming","created_at":1750287018,"data":{"call_id":"rtc_test_0001","sip_headers":[{"name":"From","value":"sip:+15555550100@sip.example.com"}]}}';

Deno.test("§7.2 test vector: whsec_ secret", async () => {
  const sig = await signWebhook(
    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "wh_test_0001",
    "1750287078",
    BODY,
  );
  assert.equal(sig, "v1,+Z1iVIwyZ/CUWEoInmK2YUIEp2H8i5BKe1NRHYFqRfs=");
});

Deno.test("§7.2 test vector: plain secret without whsec_", async () => {
  const sig = await signWebhook(
    "plain-secret",
    "wh_test_0001",
    "1750287078",
    BODY,
  );
  assert.equal(sig, "v1,CA6V3b7KOp7wJHi/k0DV9BU0OgPyaedsAcocxUtFMo8=");
});

Deno.test("secrets and headers have the documented shapes", async () => {
  const secret = generateWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(secretKeyBytes(secret).length, 32);
  const h = await webhookHeaders(secret, BODY, "wh_x", 1750287078_000);
  assert.equal(h.get("webhook-id"), "wh_x");
  assert.equal(h.get("webhook-timestamp"), "1750287078");
  assert.equal(
    h.get("webhook-signature"),
    await signWebhook(secret, "wh_x", "1750287078", BODY),
  );
  assert.equal(h.get("content-type"), "application/json");
  assert.match(h.get("user-agent")!, /^OpenAI\/1\.0/);
});

Deno.test("deliverWebhook: `signal` stops retries but not the request in flight; `requestSignal` cancels it", async () => {
  const stop = new AbortController();
  let hits = 0;
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    await req.body?.cancel();
    hits++;
    if (hits === 1) {
      stop.abort(); // e.g. the call is rejected while the receiver handles it
      await release.promise;
      return new Response(null, { status: 500 });
    }
    return new Response(null, { status: 200 });
  });
  const url = `http://127.0.0.1:${server.addr.port}/hook`;
  try {
    const attempts: DeliveryAttempt[] = [];
    const pending = deliverWebhook(url, "plain-secret", { a: 1 }, {
      retryDelaysMs: [10, 10],
      signal: stop.signal,
      onAttempt: (a) => attempts.push(a),
    });
    while (hits < 1) await new Promise((r) => setTimeout(r, 5));
    release.resolve();
    assert.equal(await pending, false);
    // The in-flight answer was recorded; no retry after the abort.
    assert.deepEqual(attempts, [{ attempt: 1, status: 500 }]);
    assert.equal(hits, 1);

    const shutdown = new AbortController();
    const hang = Promise.withResolvers<void>();
    const slow = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
    }, async (req) => {
      await req.body?.cancel();
      shutdown.abort();
      await hang.promise;
      return new Response(null, { status: 200 });
    });
    const cut: DeliveryAttempt[] = [];
    const ok = await deliverWebhook(
      `http://127.0.0.1:${slow.addr.port}/hook`,
      "plain-secret",
      {},
      {
        retryDelaysMs: [10],
        signal: shutdown.signal,
        requestSignal: shutdown.signal,
        onAttempt: (a) => cut.push(a),
      },
    );
    hang.resolve();
    await slow.shutdown();
    assert.equal(ok, false);
    assert.equal(cut.length, 1);
    assert.equal(cut[0].status, null);
    assert.ok(cut[0].error);
  } finally {
    await server.shutdown();
  }
});

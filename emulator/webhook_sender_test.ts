/**
 * Standard Webhooks signing against the protocol reference §7.2 test vector.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
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

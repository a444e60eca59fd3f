/**
 * Webhook signatures (protocol reference §7): the reference's Standard Webhooks test vector, and
 * a `realtime.call.incoming` delivery checked with an independent HMAC. OpenAI sends the latter
 * only for SIP calls, so the delivery case runs against the emulator only.
 *
 * @module
 */
import { signWebhook } from "../../webhook_sender.ts";
import type { Ev } from "../../testkit.ts";
import type { Case } from "../types.ts";

/** The protocol reference's vector (§7.2). */
const VECTOR = {
  secret: "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  id: "wh_test_0001",
  timestamp: "1750287078",
  body:
    '{"object":"event","id":"evt_test_0001","type":"realtime.call.incoming","created_at":1750287018,"data":{"call_id":"rtc_test_0001","sip_headers":[{"name":"From","value":"sip:+15555550100@sip.example.com"}]}}',
  signature: "v1,+Z1iVIwyZ/CUWEoInmK2YUIEp2H8i5BKe1NRHYFqRfs=",
  plainSignature: "v1,CA6V3b7KOp7wJHi/k0DV9BU0OgPyaedsAcocxUtFMo8=",
};

/** HMAC-SHA256 check of a delivery, written apart from the emulator's signer. */
async function verifies(secret: string, id: string, ts: string, body: string, header: string) {
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.fromBase64(secret.slice("whsec_".length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = new TextEncoder().encode(`${id}.${ts}.${body}`);
  for (const entry of header.split(" ")) {
    const mac = Uint8Array.fromBase64(entry.replace(/^v1,/, ""));
    if (await crypto.subtle.verify("HMAC", key, mac, signed)) return true;
  }
  return false;
}

export const WEBHOOK_CASES: readonly Case[] = [
  {
    id: "webhooks.vector",
    title: "The Standard Webhooks test vector (whsec_ key and plain key)",
    source: "§7.2 (the algorithm both official SDKs implement)",
    async run(ctx) {
      const v = VECTOR;
      ctx.check(
        "whsec_ secret",
        v.signature,
        await signWebhook(v.secret, v.id, v.timestamp, v.body),
      );
      ctx.check(
        "plain secret",
        v.plainSignature,
        await signWebhook("plain-secret", v.id, v.timestamp, v.body),
      );
      ctx.check(
        "an independent verifier accepts it",
        true,
        await verifies(v.secret, v.id, v.timestamp, v.body, v.signature),
      );
    },
  },
  {
    id: "webhooks.delivery",
    title: "realtime.call.incoming: headers, signature, body",
    source: "§7.1 [DOC realtime-sip guide], §7.2",
    targets: ["emulator"],
    skipReason:
      "OpenAI sends it only for an incoming SIP call (needs a SIP trunk and a public URL)",
    async run(ctx) {
      const got = Promise.withResolvers<{ headers: Headers; body: string }>();
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        got.resolve({ headers: req.headers, body: await req.text() });
        return new Response(null, { status: 204 });
      });
      ctx.defer(() => server.shutdown());
      const secret = `whsec_${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
      const r = await ctx.request("/_emulator/sip/incoming", {
        method: "POST",
        body: JSON.stringify({ webhookUrl: `http://127.0.0.1:${server.addr.port}/hook`, secret }),
      });
      ctx.check("incoming call created", 201, r.status);
      const callId = r.json?.callId;
      ctx.defer(() => ctx.post(`/v1/realtime/calls/${callId}/reject`, {}));
      const { headers, body } = await got.promise;
      const id = headers.get("webhook-id") ?? "";
      const ts = headers.get("webhook-timestamp") ?? "";
      ctx.match("webhook-id", /^wh_[0-9a-f]{32}$/, id, "§7.1 [DOC example]");
      ctx.check("webhook-timestamp is now", "within 5 s", ts, {
        ok: Math.abs(Number(ts) - Date.now() / 1000) < 5,
      });
      ctx.match("user-agent", /^OpenAI\/1\.0/, headers.get("user-agent"));
      ctx.check(
        "signature verifies",
        true,
        await verifies(secret, id, ts, body, headers.get("webhook-signature") ?? ""),
      );
      const event: Ev = JSON.parse(body);
      ctx.check(
        "event",
        `event realtime.call.incoming ${callId}`,
        `${event.object} ${event.type} ${event.data?.call_id}`,
      );
      ctx.match("event id", /^evt_/, event.id);
      ctx.check(
        "sip_headers names",
        ["From", "To", "Call-ID"],
        event.data?.sip_headers?.map((h: Ev) => h.name),
      );
    },
  },
];

/**
 * Attack: with a public API key (the README's separate-emulator set-up, `sk-emulator-local`) and no
 * `SIGNING_SECRET`/`INTERNAL_SECRET`, a stranger computes the secrets the app used to derive from
 * the key (HMAC-SHA256(key, "hello-transcription:<label>")), forges a ticket for a victim's
 * session and deletes it, and forges the internal secret. The app must refuse both: its secrets
 * are random and kept in the Store.
 *
 * @module
 */
import assert from "node:assert/strict";
import { postJson, startTestApp } from "./server.ts";
import { createTicket } from "../lib/ticket.ts";

const PUBLIC_KEY = "sk-emulator-local";

/** The old derivation, as anyone who read the source could compute it. */
async function derive(seed: string, label: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(seed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`hello-transcription:${label}`),
  );
  return new Uint8Array(mac).toBase64({ alphabet: "base64url", omitPadding: true });
}

Deno.test("secrets forged from a public OPENAI_API_KEY open nothing", async () => {
  const app = await startTestApp({
    env: { OPENAI_API_KEY: PUBLIC_KEY, SIGNING_SECRET: "", INTERNAL_SECRET: "" },
    emulator: { apiKey: PUBLIC_KEY },
  });
  try {
    const victim = await postJson(app.baseUrl, "/api/session", {});
    assert.equal(victim.status, 200, JSON.stringify(victim.json));
    const { sessionId } = victim.json;

    const forged = await createTicket(sessionId, {
      secret: await derive(PUBLIC_KEY, "ticket-signing"),
      ttlSeconds: 60,
    });
    const del = await fetch(`${app.baseUrl}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${forged}` },
    });
    assert.equal(del.status, 403, await del.text());
    assert.ok(await app.store.getSession(sessionId), "the victim's session is still there");

    const internal = await postJson(
      app.baseUrl,
      "/internal/sideband/rtc_forged0123456789",
      { sessionId },
      { "x-internal-secret": await derive(PUBLIC_KEY, "internal-requests") },
    );
    assert.equal(internal.status, 403, JSON.stringify(internal.json));

    // The app's own ticket still works: the secrets exist, they are just not guessable.
    const own = await fetch(`${app.baseUrl}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${victim.json.ticket}` },
    });
    assert.equal(own.status, 200, await own.text());
  } finally {
    await app.close();
  }
});

import assert from "node:assert/strict";
import { createTicket, verifyTicket } from "./ticket.ts";

const secret = "ticket-test-secret-0123456789";

Deno.test("createTicket() round-trips through verifyTicket()", async () => {
  const ticket = await createTicket("ses_abc", {
    secret,
    ttlSeconds: 60,
    now: 1_000_000,
  });
  const claims = await verifyTicket(ticket, {
    secret,
    now: 1_000_000 + 59_000,
  });
  assert.deepEqual(claims, { sessionId: "ses_abc", expiresAt: 1_060_000 });
});

Deno.test("verifyTicket() rejects expired, forged, re-signed and malformed tickets", async () => {
  const ticket = await createTicket("ses_abc", {
    secret,
    ttlSeconds: 60,
    now: 1_000_000,
  });
  assert.equal(
    await verifyTicket(ticket, { secret, now: 1_060_000 }),
    null,
    "expired",
  );
  assert.equal(
    await verifyTicket(ticket, { secret: "another-secret-0123456789" }),
    null,
  );
  const [payload, mac] = ticket.split(".");
  const forged = new TextEncoder().encode(
    JSON.stringify({ sid: "ses_other", exp: 9e15 }),
  )
    .toBase64({ alphabet: "base64url", omitPadding: true });
  assert.equal(
    await verifyTicket(`${forged}.${mac}`, { secret }),
    null,
    "payload swapped",
  );
  assert.equal(
    await verifyTicket(`${payload}.${mac.slice(0, -2)}AA`, { secret }),
    null,
  );
  for (
    const bad of [
      undefined,
      42,
      "",
      "a.b.c",
      "not-a-ticket",
      "%%%.%%%",
      "x".repeat(5000),
    ]
  ) {
    assert.equal(
      await verifyTicket(bad, { secret }),
      null,
      String(bad).slice(0, 20),
    );
  }
});

import assert from "node:assert/strict";
import { createTicket } from "./ticket.ts";
import { checkTicket } from "./ticket_guard.ts";

const secret = "test-signing-secret-0123456789";

Deno.test("checkTicket() passes a good ticket and refuses forged, expired and other sessions' ones", async () => {
  const now = 1_800_000_000_000;
  const ticket = await createTicket("ses_a", { secret, ttlSeconds: 60, now });
  const good = await checkTicket(ticket, { secret, sessionId: "ses_a", now });
  assert.ok(good.ok);
  assert.equal(good.claims.sessionId, "ses_a");
  assert.ok((await checkTicket(ticket, { secret, now })).ok);

  const cases: [unknown, string | undefined, number, number, string][] = [
    [ticket, "ses_b", now, 403, "ticket_mismatch"],
    [ticket, "ses_a", now + 61_000, 401, "invalid_ticket"],
    [ticket.slice(0, -2) + "xx", "ses_a", now, 401, "invalid_ticket"],
    [42, undefined, now, 401, "invalid_ticket"],
  ];
  for (const [value, sessionId, at, status, code] of cases) {
    const checked = await checkTicket(value, { secret, sessionId, now: at });
    assert.ok(!checked.ok);
    assert.equal(checked.response.status, status);
    assert.equal((await checked.response.json()).error.code, code);
  }
});

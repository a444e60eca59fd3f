import assert from "node:assert/strict";
import { createPreminter } from "./preminter.js";
import { countSessions, startTestApp, waitFor } from "../testing/server.ts";

Deno.test("createPreminter() keeps a fresh key ready and refreshes it before expiry", async () => {
  const t = await startTestApp({ env: { EPHEMERAL_KEY_TTL_SECONDS: "10" } });
  const keys = createPreminter({
    options: () => ({ language: "en" }),
    marginMs: 9_000, // a 10 s key is refreshed after ~1 s
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    keys.prime();
    await waitFor(async () => (await countSessions(t.store)) >= 2, {
      message: "key refreshed before expiry",
    });
    const session = await keys.take();
    assert.match(session.ephemeralKey, /^ek_/);
    assert.ok(session.expiresAt * 1000 - Date.now() > 9_000, "fresh enough");
    const row = await t.store.getSession(session.sessionId);
    assert.equal((row?.settings as { language: string }).language, "en");
    // Taken keys are not handed out twice.
    const next = await keys.take();
    assert.notEqual(next.sessionId, session.sessionId);
  } finally {
    keys.stop();
    await t.close();
  }
});

Deno.test("createPreminter().take() reports the server's error", async () => {
  const t = await startTestApp();
  const keys = createPreminter({
    options: () => ({ model: "nope" }),
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    await assert.rejects(keys.take(), (err: Error & { status: number }) => {
      assert.equal(err.name, "ConnectionError");
      assert.equal(err.status, 400);
      assert.match(err.message, /Unknown model "nope"/);
      return true;
    });
  } finally {
    keys.stop();
    await t.close();
  }
});

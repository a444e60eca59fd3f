import assert from "node:assert/strict";
import { createPreminter } from "./preminter.js";
import { countSessions, startTestApp, waitFor } from "../testing/server.ts";

Deno.test("createPreminter().take() mints when asked, never before, and never hands a key out twice", async () => {
  const t = await startTestApp({ env: { EPHEMERAL_KEY_TTL_SECONDS: "10" } });
  const keys = createPreminter({
    options: () => ({ language: "en" }),
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await countSessions(t.store), 0, "nothing minted before take()");
    const session = await keys.take();
    assert.match(session.ephemeralKey ?? "", /^ek_/);
    assert.ok(session.expiresAt * 1000 - Date.now() > 5_000, "fresh");
    const row = await t.store.getSession(session.sessionId);
    assert.equal((row?.settings as { language: string }).language, "en");
    // Taken keys are not handed out twice.
    const next = await keys.take();
    assert.notEqual(next.sessionId, session.sessionId);
    assert.equal(await countSessions(t.store), 2);
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

Deno.test("createPreminter().giveBack() reuses a session that started no call, unless settings changed", async () => {
  const t = await startTestApp();
  let language = "en";
  const keys = createPreminter({
    options: () => ({ language }),
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    const first = await keys.take();
    keys.giveBack(first);
    // The microphone failed; the next Start takes the same session: no second slot is held.
    const again = await keys.take();
    assert.equal(again.sessionId, first.sessionId);
    assert.equal(await countSessions(t.store), 1);
    // Only the session last taken comes back, and only once.
    keys.giveBack(again);
    keys.giveBack(again);
    assert.equal((await keys.take()).sessionId, first.sessionId);
    // After a settings change the old session is not reused.
    keys.giveBack(first);
    const taken = await keys.take();
    keys.invalidate();
    language = "fr";
    keys.giveBack(taken);
    const fresh = await keys.take();
    assert.notEqual(fresh.sessionId, first.sessionId);
    const row = await t.store.getSession(fresh.sessionId);
    assert.equal((row?.settings as { language: string }).language, "fr");
  } finally {
    keys.stop();
    await t.close();
  }
});

Deno.test("createPreminter() with SIGNALING=relay hands out keyless sessions and takes them back", async () => {
  const t = await startTestApp({
    env: { SIGNALING: "relay", EPHEMERAL_KEY_TTL_SECONDS: "10" },
  });
  const keys = createPreminter({
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    const session = await keys.take();
    assert.equal(session.ephemeralKey, null);
    assert.equal(session.realtimeUrl, null);
    assert.ok(session.expiresAt * 1000 - Date.now() > 5_000, "fresh");
    // A keyless session that started no call is given back and reused like any other.
    keys.giveBack(session);
    assert.equal((await keys.take()).sessionId, session.sessionId);
    assert.equal(await countSessions(t.store), 1);
    assert.equal(t.emulator.control.state.secrets.size, 0, "no client secret minted");
  } finally {
    keys.stop();
    await t.close();
  }
});

Deno.test("createPreminter(): a dropped session with translations is deleted, so its calls stop counting", async () => {
  // Two translations hold all three live calls one client may have: a second mint would be refused.
  const t = await startTestApp();
  let options: Record<string, unknown> = { translations: ["es", "de"] };
  const keys = createPreminter({
    options: () => options,
    fetch: (url, init) => fetch(`${t.baseUrl}${url}`, init),
  });
  try {
    // The microphone failed: the session comes back unused, then the settings change.
    keys.giveBack(await keys.take());
    assert.equal(await countSessions(t.store), 1);
    options = { translations: ["es", "fr"] };
    keys.invalidate();
    await waitFor(async () => (await countSessions(t.store)) === 0, {
      message: "the dropped session was deleted",
    });
    const session = await keys.take();
    assert.deepEqual(
      (session as unknown as { translations: { language: string }[] }).translations.map((x) =>
        x.language
      ),
      ["es", "fr"],
    );
  } finally {
    keys.stop();
    await t.close();
  }
});

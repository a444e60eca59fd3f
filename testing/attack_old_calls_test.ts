/**
 * Attack: taking over an earlier call of someone else's session. After a continuation the
 * session's previous call ids are public (`GET /api/sessions/:id` lists them for anyone with the
 * share link); every call a session ever had stays bound to it, so a stranger's own ticket can
 * neither attach a sideband to one nor hang it up.
 */
import assert from "node:assert/strict";
import { postJson, startTestApp } from "./server.ts";
import { insideOneWindow } from "./clock.ts";

Deno.test("attack: a share link plus a stranger's own ticket cannot take over a previous call", async () => {
  const t = await startTestApp();
  try {
    await insideOneWindow();
    // The victim's session runs on a call, then continues on a new one (a rotation).
    const victim = (await postJson(t.baseUrl, "/api/session", {})).json;
    await t.store.updateSession(victim.sessionId, {
      callId: "rtc_victimfirst",
      status: "live",
      startedAt: Date.now(),
    });
    const next = await postJson(t.baseUrl, `/api/session/${victim.sessionId}/continue`, {
      ticket: victim.ticket,
    });
    assert.equal(next.status, 200, JSON.stringify(next.json));

    // The stranger reads the share link's data and mints a session of their own.
    const shared = await (await fetch(`${t.baseUrl}/api/sessions/${victim.sessionId}`)).json();
    const oldCall = shared.calls[0].callId;
    assert.equal(oldCall, "rtc_victimfirst");
    const stranger = (await postJson(t.baseUrl, "/api/session", {})).json;

    for (const action of ["sideband", "hangup"]) {
      const res = await postJson(t.baseUrl, `/api/calls/${oldCall}/${action}`, {
        ticket: stranger.ticket,
      });
      assert.equal(res.status, 409, `${action}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.code, "call_mismatch");
    }
    const mine = await t.store.getSession(stranger.sessionId);
    assert.equal(mine?.callId, null, "the stranger's session never got the victim's call");
    assert.equal(mine?.status, "pending");
    assert.deepEqual(await t.store.listCalls(stranger.sessionId), []);
    // The victim's own ticket still may.
    const own = await postJson(t.baseUrl, `/api/calls/${oldCall}/hangup`, {
      ticket: victim.ticket,
    });
    assert.notEqual(own.status, 409, JSON.stringify(own.json));
  } finally {
    await t.close();
  }
});

/**
 * connection.js in real Chromium against the app and the emulator: the Location-hidden fallback
 * (SDP relayed through POST /api/calls), a keyless session (`SIGNALING=relay`) relaying at once,
 * error reading, and Stop hanging up on the server.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../testing/browser.ts";
import { startTestApp, waitFor } from "../testing/server.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...T,
  name: "connect() falls back to the server relay when Location is hidden, and stop() hangs up",
  fn: async () => {
    const t = await startTestApp();
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      t.emulator.control.faults.exposeLocation = false;
      browser = await launchBrowser();
      const { page } = browser;
      await page.goto(`${t.baseUrl}/frontend/connection.js`);
      const result = await page.evaluate(async () => {
        const m = await import("/frontend/connection.js");
        const keys = await import("/frontend/preminter.js");
        const session = await keys.mintSession({ options: { language: "en" } });
        const statuses: string[] = [];
        const conn = await m.connect({
          session,
          onStatus: (s: string) => statuses.push(s),
        });
        const sideband = await conn.sideband;
        // deno-lint-ignore no-explicit-any
        (globalThis as any).conn = conn;
        return {
          path: conn.path,
          callId: conn.callId,
          sessionId: session.sessionId,
          sideband,
          statuses,
          open: conn.channel.readyState,
        };
      });
      assert.equal(result.path, "relay");
      assert.equal(result.open, "open");
      assert.ok(result.statuses.includes("fallback"), result.statuses.join());
      assert.ok(result.statuses.includes("connected"));
      const row = await t.store.getSession(result.sessionId);
      assert.equal(row?.callId, result.callId);
      await waitFor(async () => (await t.store.getSession(result.sessionId))?.status === "live");
      // The directly created call (id unreadable) was dropped; the relayed one is live.
      const calls = t.emulator.control.calls() as unknown as Array<
        { id: string; state: string }
      >;
      assert.equal(calls.find((c) => c.id === result.callId)?.state, "active");

      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).conn.stop());
      await waitFor(async () => (await t.store.getSession(result.sessionId))?.status === "ended");
      assert.equal(
        (await t.store.getSession(result.sessionId))?.endReason,
        "hangup",
      );
    } finally {
      await browser?.close();
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name:
    "connect() relays a keyless session (SIGNALING=relay) at once, without touching OpenAI or reporting a fallback; a continuation too",
  fn: async () => {
    const t = await startTestApp({ env: { SIGNALING: "relay" } });
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      browser = await launchBrowser();
      const { page } = browser;
      // Every HTTP request the page makes: none may go to the Realtime API's origin.
      const requests: string[] = [];
      page.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
      await page.goto(`${t.baseUrl}/frontend/connection.js`);
      const result = await page.evaluate(async () => {
        const m = await import("/frontend/connection.js");
        const keys = await import("/frontend/preminter.js");
        const api = await import("/frontend/api.js");
        const session = await keys.mintSession({ options: { language: "en" } });
        const statuses: string[] = [];
        const onStatus = (s: string) => statuses.push(s);
        const first = await m.connect({ session, onStatus });
        // The next call of the same session, as a handover makes it: also keyless, also relayed.
        const next = await api.continueSession(session);
        const second = await m.connect({ session: next, onStatus });
        const out = {
          key: session.ephemeralKey,
          nextKey: next.ephemeralKey,
          paths: [first.path, second.path],
          callIds: [first.callId, second.callId],
          sidebands: [await first.sideband, await second.sideband],
          open: [first.channel.readyState, second.channel.readyState],
          sessionId: session.sessionId,
          statuses,
        };
        await second.stop();
        await first.stop();
        return out;
      });
      assert.equal(result.key, null);
      assert.equal(result.nextKey, null);
      assert.deepEqual(result.paths, ["relay", "relay"]);
      assert.deepEqual(result.open, ["open", "open"]);
      assert.deepEqual(result.sidebands, [true, true]);
      assert.notEqual(result.callIds[0], result.callIds[1]);
      assert.ok(!result.statuses.includes("fallback"), result.statuses.join());
      assert.deepEqual(result.statuses.slice(0, 2), ["microphone", "negotiating"]);
      const realtime = requests.filter((r) => r.includes(t.emulator.baseUrl));
      assert.deepEqual(realtime, [], "the page never called the Realtime API itself");
      assert.equal(
        requests.filter((r) =>
          r.startsWith(`POST ${t.baseUrl}/api/calls`) && r.endsWith("/api/calls")
        )
          .length,
        2,
        requests.join("\n"),
      );
      assert.equal(t.emulator.control.state.secrets.size, 0, "no client secret minted");
      // Both calls were created by the server: exactly the two relayed ones exist.
      const calls = t.emulator.control.calls() as unknown as Array<{ id: string }>;
      assert.deepEqual(calls.map((c) => c.id).sort(), [...result.callIds].sort());
    } finally {
      await browser?.close();
      await t.close();
    }
  },
});

Deno.test({
  ...T,
  name: "connect() reports OpenAI's error message and status when the call is refused",
  fn: async () => {
    const t = await startTestApp();
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      browser = await launchBrowser();
      const { page } = browser;
      await page.goto(`${t.baseUrl}/frontend/connection.js`);
      t.emulator.control.failRest({
        endpoint: "calls",
        status: 429,
        count: 1,
        body: {
          error: {
            message: "Too many calls",
            type: "requests",
            code: null,
            param: null,
          },
        },
      });
      const err = await page.evaluate(async () => {
        const m = await import("/frontend/connection.js");
        const keys = await import("/frontend/preminter.js");
        const session = await keys.mintSession();
        try {
          await m.connect({ session });
          return null;
        } catch (e) {
          const x = e as { name: string; message: string; status: number };
          return { name: x.name, message: x.message, status: x.status };
        }
      });
      assert.ok(err);
      assert.equal(err.name, "ConnectionError");
      assert.equal(err.status, 429);
      assert.match(err.message, /Too many calls/);
    } finally {
      await browser?.close();
      await t.close();
    }
  },
});

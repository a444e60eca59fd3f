/**
 * What `TRANSCRIPTION_PROMPT` privacy really is. The sideband applies the prompt with
 * `session.update`, and the Realtime API answers with `session.updated` on every connection of
 * the call — the page's own data channel too (the emulator does it; the real API's broadcast is
 * assumed, see docs/security.md). No way of applying a prompt hides it from the caller's
 * browser, so the docs promise only what holds: the caller's browser can read it; nobody else
 * (share-link viewers, the API's stored events) can.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp, waitFor } from "./server.ts";
import { launchBrowser } from "./browser.ts";

const PROMPT = "Vocabulary: Zorblax, Quenthor";

Deno.test({
  name: "the prompt reaches the caller's data channel, never a share-link reader; the docs say so",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const app = await startTestApp({
      env: { TRANSCRIPTION_PROMPT: PROMPT, TRANSCRIPTION_MODEL: "gpt-transcribe" },
    });
    const browser = await launchBrowser();
    try {
      await browser.page.goto(`${app.baseUrl}/`);
      const sessionId = await browser.page.evaluate(async () => {
        const w = globalThis as unknown as Record<string, unknown>;
        const events: unknown[] = [];
        w.seen = events;
        const pc = new RTCPeerConnection();
        w.pc = pc;
        pc.addTransceiver("audio", { direction: "sendrecv" });
        const dc = pc.createDataChannel("oai-events");
        dc.onmessage = (e) => events.push(JSON.parse(e.data));
        await pc.setLocalDescription(await pc.createOffer());
        const minted = await (await fetch("/api/session", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        })).json();
        const call = await (await fetch("/api/calls", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ ticket: minted.ticket, sdp: pc.localDescription!.sdp }),
        })).json();
        await pc.setRemoteDescription({ type: "answer", sdp: call.sdp });
        return minted.sessionId as string;
      });
      // The caller's browser reads the prompt in session.updated: the trade-off the docs state.
      await waitFor(
        async () =>
          JSON.stringify(await browser.page.evaluate(() => (globalThis as { seen?: unknown }).seen))
            .includes("Zorblax"),
        { timeoutMs: 10_000, message: "session.updated on the data channel" },
      );
      // The stored events hold it (the server applied it) but nothing the API serves does.
      await waitFor(async () =>
        (await app.store.listEvents(sessionId)).some((e) => e.type === "session.updated")
      );
      const served = [
        await (await fetch(`${app.baseUrl}/api/sessions/${sessionId}`)).text(),
        await (await fetch(`${app.baseUrl}/api/sessions/${sessionId}/transcript?format=json`))
          .text(),
      ];
      const ctl = new AbortController();
      const sse = await fetch(`${app.baseUrl}/api/sessions/${sessionId}/events`, {
        signal: ctl.signal,
      });
      const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
      let tail = "";
      while (!tail.includes("session.updated")) {
        const { value, done } = await reader.read();
        if (done) break;
        tail += value;
      }
      ctl.abort();
      await reader.cancel().catch(() => {});
      served.push(tail);
      assert.match(tail, /session\.updated/);
      for (const text of served) assert.ok(!text.includes("Zorblax"), text.slice(0, 300));

      // The docs promise exactly this, no more.
      const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
      const row = readme.split("\n").find((l) => l.startsWith("| `TRANSCRIPTION_PROMPT`")) ?? "";
      assert.doesNotMatch(row, /never sees it/);
      assert.match(row, /caller's browser can read it/);
      const security = await Deno.readTextFile(new URL("../docs/security.md", import.meta.url));
      assert.match(security, /`TRANSCRIPTION_PROMPT` is not a secret/);
    } finally {
      await browser.close();
      await app.close();
    }
  },
});

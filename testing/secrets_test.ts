/**
 * No secret ever leaves the server. Runs the real page in Chromium through a whole session against
 * the emulator (which accepts a recognisable API key), then scans everything the browser received
 * (bodies and headers), every log line (the injected logger and the console), and the API outputs
 * for the API key, the internal and signing secrets, and the client's pseudonymous key. Ephemeral
 * keys may appear only in the one `POST /api/session` response that must carry them.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Response as PwResponse } from "npm:playwright-core@1.65.1";
import { startTestApp, waitFor } from "./server.ts";
import { launchBrowser } from "./browser.ts";
import { makeSpeechWav } from "./speech.ts";
import { clientKey } from "../lib/security/client_ip.ts";

const API_KEY = `sk-proj-CANARY${crypto.randomUUID().replaceAll("-", "")}`;
const INTERNAL = `internal-CANARY-${crypto.randomUUID()}`;
const SIGNING = `signing-CANARY-${crypto.randomUUID()}`;
/** The browser's pseudonymous client key is private too (it links a client's sessions). */
const SECRETS = [
  API_KEY,
  INTERNAL,
  SIGNING,
  await clientKey(SIGNING, "127.0.0.1"),
];
const EPHEMERAL = /ek_[A-Za-z0-9]{8,}/g;

/** Secrets and their common encodings (URL, base64, JSON-escaped). */
function variants(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  return [
    secret,
    encodeURIComponent(secret),
    bytes.toBase64(),
    bytes.toBase64({ alphabet: "base64url", omitPadding: true }),
    secret.slice(0, 24), // a prefix is already a leak for keys
  ];
}

function findSecrets(where: string, text: string): string[] {
  const hits: string[] = [];
  for (const s of SECRETS) {
    for (const v of variants(s)) {
      if (text.includes(v)) {
        hits.push(`${where}: contains ${v.slice(0, 12)}…`);
      }
    }
  }
  return hits;
}

/** Captures console output for the duration of the test (and still prints nothing). */
function captureConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      lines.push(
        args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "),
      );
    };
  }
  return {
    lines,
    restore() {
      methods.forEach((m, i) => console[m] = saved[i]);
    },
  };
}

Deno.test({
  name: "secrets: nothing the browser, the logs or the API see contains a secret",
  // werift's SRTP ciphers (node:crypto) are released by GC, not closed.
  sanitizeResources: false,
}, async () => {
  // Speech starts after the page's turn detector runs (once the call is connected).
  const wav = await makeSpeechWav("the quick brown fox", {
    padStartSec: 3,
    padEndSec: 1.5,
  });
  const cons = captureConsole();
  const t = await startTestApp({
    emulator: { apiKey: API_KEY },
    env: { INTERNAL_SECRET: INTERNAL, SIGNING_SECRET: SIGNING },
  });
  const b = await launchBrowser({ fakeAudioWav: wav.path });
  try {
    await t.emulator.control.queueTranscripts(["the quick brown fox"]);
    const responses: PwResponse[] = [];
    b.page.on("response", (r) => responses.push(r));
    await b.page.goto(`${t.baseUrl}/`);
    await b.page.click("#start");
    const session = await waitFor(async () => {
      const { sessions } = await t.store.listSessions({ limit: 5 });
      const s = sessions[0];
      return s &&
          (await t.store.listUtterances(s.id)).some((u) => u.status === "final")
        ? s
        : null;
    }, { timeoutMs: 20_000, message: "a final utterance in the store" });
    await waitFor(() => b.page.locator("#transcript li").count(), {
      timeoutMs: 10_000,
      message: "a caption line on the page",
    });
    await b.page.click("#stop");
    await waitFor(
      async () => (await t.store.getSession(session.id))?.status === "ended",
      {
        timeoutMs: 10_000,
        message: "the session ended",
      },
    );

    // The API outputs the page and share links use, fetched directly.
    const apiPaths = [
      "/api/config",
      "/api/models",
      "/api/sessions",
      `/api/sessions/${session.id}`,
      `/api/sessions/${session.id}/utterances`,
      `/api/sessions/${session.id}/events`,
      `/s/${session.id}`,
    ];
    const hits: string[] = [];
    for (const path of apiPaths) {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 1500); // SSE streams stay open
      let text = "";
      let headers = "";
      try {
        const res = await fetch(`${t.baseUrl}${path}`, { signal: ctl.signal });
        headers = JSON.stringify([...res.headers]);
        const reader = res.body!.getReader();
        const dec = new TextDecoder();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += dec.decode(value, { stream: true });
          }
        } catch { /* aborted SSE: keep what arrived */ }
      } finally {
        clearTimeout(timer);
      }
      hits.push(...findSecrets(`GET ${path} headers`, headers));
      hits.push(...findSecrets(`GET ${path} body`, text));
      for (const ek of text.match(EPHEMERAL) ?? []) {
        hits.push(`GET ${path}: ephemeral key ${ek.slice(0, 8)}…`);
      }
    }

    // Everything the browser received.
    let sessionResponses = 0;
    let sawEphemeral = false;
    for (const r of responses) {
      const url = new URL(r.url());
      const where = `${r.request().method()} ${url.pathname}`;
      const headers = JSON.stringify(await r.allHeaders());
      let body = "";
      let timer = 0;
      try {
        body = await Promise.race([
          r.text(),
          new Promise<string>((_, reject) => {
            timer = setTimeout(() => reject(new Error("stream")), 1000);
          }),
        ]);
      } catch {
        /* redirects and streams have no readable body */
      } finally {
        clearTimeout(timer);
      }
      hits.push(...findSecrets(`${where} headers`, headers));
      hits.push(...findSecrets(`${where} body`, body));
      const fromApp = url.origin === t.baseUrl;
      const isMint = fromApp && url.pathname === "/api/session" &&
        r.request().method() === "POST";
      if (isMint) {
        sessionResponses++;
        sawEphemeral ||= EPHEMERAL.test(body);
        EPHEMERAL.lastIndex = 0;
      } else if (fromApp) {
        for (const ek of `${headers}${body}`.match(EPHEMERAL) ?? []) {
          hits.push(`${where}: ephemeral key ${ek.slice(0, 8)}…`);
        }
      }
    }
    assert.equal(sessionResponses, 1, "the page minted exactly one session");
    assert.ok(
      sawEphemeral,
      "the mint response carried the ephemeral key (the scan is live)",
    );
    assert.ok(
      responses.length >= 5,
      `the browser received ${responses.length} responses`,
    );

    // Every log line, structured and console.
    for (const line of t.logs) {
      hits.push(...findSecrets(`log "${line.message}"`, JSON.stringify(line)));
    }
    for (const line of t.logs) {
      for (const ek of JSON.stringify(line).match(EPHEMERAL) ?? []) {
        hits.push(`log "${line.message}": ephemeral key ${ek.slice(0, 8)}…`);
      }
    }
    for (const line of cons.lines) hits.push(...findSecrets("console", line));
    assert.ok(
      t.logs.length > 0,
      "the app logged something (the capture is live)",
    );

    assert.deepEqual(hits, []);
  } finally {
    cons.restore();
    await b.close();
    await t.close();
  }
});

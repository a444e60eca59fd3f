/**
 * Runs every `curl` example of docs/api.md (and of README.md's API section, when it has any) with
 * the real curl against a running app on loopback, in document order, and checks each answer's
 * status and shape. Also checks that every documented OpenAPI operation has an example.
 */
import assert from "node:assert/strict";
import { OPERATIONS } from "../lib/openapi.ts";
import { createTestPeer, postJson, startTestApp, type TestPeer, waitFor } from "./server.ts";

const ROOT = new URL("../", import.meta.url);
const T = "conversation.item.input_audio_transcription.";

/** The ```sh blocks whose first line starts with `curl`. */
export function curlExamples(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const block = m[1].trim();
    if (block.startsWith("curl ")) out.push(block);
  }
  return out;
}

/** Method and path of an example (`$VARS` left in). */
function target(cmd: string): { method: string; path: string } {
  const method = /-X\s+(\w+)/.exec(cmd)?.[1] ??
    (/--data\b/.test(cmd) ? "POST" : "GET");
  const url = /"\$BASE(\/[^"?]*)/.exec(cmd)?.[1] ?? "";
  return { method, path: url };
}

function readmeApiSection(text: string): string {
  const start = text.search(/^## .*API.*$/m);
  if (start < 0) return "";
  const rest = text.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

async function runExamples(examples: string[], label: string) {
  // A session with translations holds 1 + its languages as live calls: room for all of them.
  const t = await startTestApp({ env: { MAX_CONCURRENT_SESSIONS_PER_IP: "20" } });
  const dir = await Deno.makeTempDir({ prefix: "curl_examples_" });
  const peers: TestPeer[] = [];
  try {
    // Session B: a live call whose id, ticket and call id the examples use.
    const b = await postJson(t.baseUrl, "/api/session", {});
    assert.equal(b.status, 200, JSON.stringify(b.json));
    peers.push(await createTestPeer());
    const relay = await postJson(t.baseUrl, "/api/calls", {
      ticket: b.json.ticket,
      sdp: peers[0].offer,
    });
    assert.equal(relay.status, 201, JSON.stringify(relay.json));
    const id: string = b.json.sessionId;
    await waitFor(async () => (await t.store.getSession(id))?.status === "live");
    for (
      const e of [
        {
          type: "input_audio_buffer.committed",
          item_id: "item_d1",
          previous_item_id: null,
        },
        {
          type: T + "completed",
          item_id: "item_d1",
          transcript: "Hello from the docs.",
        },
      ]
    ) await t.store.recordEvent(id, { ...e, event_id: `event_doc_${e.type}` });
    // Session A: a fresh mint for the SDP relay example (offer.json).
    const a = await postJson(t.baseUrl, "/api/session", {});
    peers.push(await createTestPeer());
    await Deno.writeTextFile(
      `${dir}/offer.json`,
      JSON.stringify({ ticket: a.json.ticket, sdp: peers[1].offer }),
    );
    // Session T: translated into Spanish, with one stored line the examples translate.
    const tr = await postJson(t.baseUrl, "/api/session", { translations: ["es"] });
    assert.equal(tr.status, 200, JSON.stringify(tr.json));
    for (
      const e of [
        { type: "input_audio_buffer.committed", item_id: "item_t1", previous_item_id: null },
        { type: T + "completed", item_id: "item_t1", transcript: "Hello from the docs." },
      ]
    ) await t.store.recordEvent(tr.json.sessionId, { ...e, event_id: `event_tr_${e.type}` });
    peers.push(await createTestPeer());
    await Deno.writeTextFile(
      `${dir}/translation-offer.json`,
      JSON.stringify({ ticket: tr.json.ticket, sdp: peers[2].offer }),
    );
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      TR_ID: tr.json.sessionId,
      TR_TICKET: tr.json.ticket,
      HOME: dir,
      BASE: t.baseUrl,
      ID: id,
      TICKET: b.json.ticket,
      CALL_ID: relay.json.callId,
    };
    for (const example of examples) {
      const { method, path } = target(example);
      const out = await new Deno.Command("sh", {
        args: ["-c", `${example} -w '\n@@STATUS %{http_code}\n'`],
        env,
        clearEnv: true,
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const where = `${label}: ${method} ${path}\n${example}\n${stdout.slice(0, 400)}`;
      assert.equal(
        out.code,
        0,
        `${where}\n${new TextDecoder().decode(out.stderr)}`,
      );
      const cut = stdout.lastIndexOf("@@STATUS ");
      const status = Number(stdout.slice(cut + 9).trim());
      const body = stdout.slice(0, cut).trim();
      assert.ok(status >= 200 && status < 300, `${where}\nstatus ${status}`);
      assert.ok(
        !stdout.includes(t.emulator.apiKey),
        `${where}\nleaks the API key`,
      );
      if (path.endsWith("/events")) {
        assert.match(body, /^event: ready/m, where);
        assert.match(body, /^event: end/m, where);
      } else if (path.endsWith("/transcript")) {
        assert.match(body, /-->|Hello from the docs|Hola/, where);
      } else {
        const json = JSON.parse(body);
        assert.equal(typeof json, "object", where);
        assert.equal(json.error, undefined, where);
        if (path === "/api/openapi.json") assert.equal(json.openapi, "3.1.0");
        if (method === "DELETE") assert.equal(json.deleted, true, where);
        if (method === "GET" && path === "/api/sessions/$ID") {
          assert.equal(json.session.id, id, where);
        }
      }
      if (path.endsWith("/hangup")) {
        // The sideband marks the session ended; later examples read it finished.
        await waitFor(async () => (await t.store.getSession(id))?.status === "ended");
      }
    }
  } finally {
    for (const p of peers) await p.close();
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `examples` start with `curl -sS` and cover every operation of the OpenAPI document. */
function assertCoversEveryOperation(examples: string[], label: string) {
  assert.ok(examples.length >= OPERATIONS.length, `${label}: only ${examples.length} examples`);
  for (const ex of examples) {
    assert.match(ex, /^curl -sS /, "examples start with `curl -sS`");
  }
  const targets = examples.map(target);
  for (const op of OPERATIONS) {
    const pattern = new RegExp(
      `^${op.path.replace(/\{[^}]+\}/g, "[^/]+").replace(/\./g, "\\.")}$`,
    );
    assert.ok(
      targets.some((x) => x.method === op.method.toUpperCase() && pattern.test(x.path)),
      `${label}: no curl example for ${op.method.toUpperCase()} ${op.path}`,
    );
  }
}

// werift (the test peer behind the relay example) keeps internal timers past close().
const LOOSE = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "every curl example in docs/api.md runs against a live server and answers 2xx with the documented shape",
  LOOSE,
  async () => {
    const doc = await Deno.readTextFile(new URL("docs/api.md", ROOT));
    const examples = curlExamples(doc);
    assertCoversEveryOperation(examples, "docs/api.md");
    await runExamples(examples, "docs/api.md");
  },
);

Deno.test(
  "README.md's API section has a curl example for every route, and each one runs",
  LOOSE,
  async () => {
    const readme = await Deno.readTextFile(new URL("README.md", ROOT));
    const examples = curlExamples(readmeApiSection(readme));
    assertCoversEveryOperation(examples, "README.md");
    await runExamples(examples, "README.md");
  },
);

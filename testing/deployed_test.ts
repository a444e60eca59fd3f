/**
 * "Deployed mode": the app runs as Val Town runs it. A subprocess imports `main.tsx` and calls its
 * default export per request (`testing/valtown_serve.ts`) with `VALTOWN_ENTRYPOINT` set, WITHOUT
 * `--allow-read`/`--allow-write` (its modules are imported over loopback HTTP, as esm.town serves
 * them), and with Val Town's std modules import-mapped to local
 * stand-ins (`testing/valtown_std/`): std/utils `readFile` fetches files over loopback from this
 * test (like esm.town serves source), std/sqlite forwards `execute()`/`batch()` to a libSQL client
 * here. So the Val Town code paths (files module, store adapter choice, no filesystem,
 * self-invoked sideband) run for real.
 */
import assert from "node:assert/strict";
import { createClient } from "npm:@libsql/client@0.17.3";
import { startEmulator } from "../emulator/mod.ts";
import { createSqlStore } from "../lib/store/mod.ts";
import { isSafePath } from "../lib/files.ts";
import { createTestPeer, postJson, waitFor } from "./server.ts";

const ROOT = new URL("../", import.meta.url);
const ENTRY = "https://esm.town/v/tester/hello-transcription/main.tsx";

/** Serves the project's files (read-only) and the SQL bridge on loopback. */
function startStandInServer() {
  const db = createClient({ url: ":memory:" });
  const fileReads: string[] = [];
  // deno-lint-ignore no-explicit-any
  const toJson = (rs: any) => ({
    columns: rs.columns,
    rows: rs.rows.map((row: unknown[]) =>
      Object.fromEntries(rs.columns.map((c: string, i: number) => [c, row[i]]))
    ),
    rowsAffected: rs.rowsAffected,
    lastInsertRowid: rs.lastInsertRowid === undefined ? null : Number(rs.lastInsertRowid),
  });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/sql" && req.method === "POST") {
      const body = await req.json();
      try {
        if (body.op === "execute") {
          return Response.json(toJson(await db.execute(body.stmt)));
        }
        const results = await db.batch(body.stmts, body.mode ?? "deferred");
        return Response.json(results.map(toJson));
      } catch (err) {
        return Response.json({ error: String((err as Error).message) }, {
          status: 400,
        });
      }
    }
    if (url.pathname.startsWith("/std/")) {
      // The stand-ins are imported over HTTP, as esm.town serves Val Town's std modules.
      const name = url.pathname.slice("/std/".length);
      if (name !== "utils.ts" && name !== "sqlite.ts") {
        return new Response("not found", { status: 404 });
      }
      return new Response(
        await Deno.readFile(new URL(`testing/valtown_std/${name}`, ROOT)),
        {
          headers: { "content-type": "application/typescript" },
        },
      );
    }
    if (url.pathname.startsWith("/src/")) {
      // The val's own modules, over HTTP as esm.town serves them: what the process imports, a
      // computed `import()` included (it needs import permission for this host, never read).
      const path = decodeURIComponent(url.pathname.slice("/src/".length));
      const type = /\.tsx?$/.test(path) ? "application/typescript" : "application/javascript";
      if (!isSafePath(path) || !/\.(tsx?|js)$/.test(path)) {
        return new Response("not found", { status: 404 });
      }
      try {
        return new Response(await Deno.readFile(new URL(path, ROOT)), {
          headers: { "content-type": path.endsWith(".tsx") ? "text/tsx" : type },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    }
    const path = decodeURIComponent(url.pathname.replace(/^\/files\//, ""));
    if (!url.pathname.startsWith("/files/") || !isSafePath(path)) {
      return new Response("not found", { status: 404 });
    }
    fileReads.push(path);
    try {
      return new Response(await Deno.readFile(new URL(path, ROOT)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    db,
    server,
    fileReads,
    base,
    filesUrl: `${base}/files`,
    sqlUrl: `${base}/sql`,
  };
}

/** Starts `testing/valtown_serve.ts` the Val Town way; resolves with its base URL. */
async function startVal(standInBase: string, env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "deployed-test-" });
  const importMap = `${dir}/import_map.json`;
  await Deno.writeTextFile(
    importMap,
    JSON.stringify({
      imports: {
        "https://esm.town/v/std/utils@85-main/index.ts": `${standInBase}/std/utils.ts`,
        "https://esm.town/v/std/sqlite/main.ts": `${standInBase}/std/sqlite.ts`,
      },
    }),
  );
  const passThrough: Record<string, string> = {};
  for (
    const k of [
      "HOME",
      "PATH",
      "DENO_DIR",
      "DENO_TLS_CA_STORE",
      "XDG_CACHE_HOME",
    ]
  ) {
    const v = Deno.env.get(k);
    if (v) passThrough[k] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock",
      "--allow-net",
      "--allow-env",
      `--allow-import=${new URL(standInBase).host}`,
      `--import-map=${importMap}`,
      `${standInBase}/src/testing/valtown_serve.ts`,
    ],
    env: { ...passThrough, NO_COLOR: "1", VALTOWN_ENTRYPOINT: ENTRY, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) output.push(chunk);
  })();
  let port = 0;
  const deadline = Date.now() + 60_000;
  while (!port && Date.now() < deadline) {
    const { value, done } = await lines.read();
    if (done) break;
    output.push(value);
    const m = value.match(/LISTENING (\d+)/);
    if (m) port = Number(m[1]);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const stdout = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      output.push(value);
    }
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await Promise.allSettled([stdout, stderr]);
    await Deno.remove(dir, { recursive: true });
  };
  if (!port) {
    await stop();
    throw new Error(`The val did not start:\n${output.join("")}`);
  }
  return { baseUrl: `http://127.0.0.1:${port}`, output, stop };
}

Deno.test({
  name: "deployed mode: page, config, session, sideband and hang-up work with no filesystem",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const emulator = await startEmulator({
      firstDeltaDelayMs: 10,
      completedDelayMs: 30,
    });
    const standIn = startStandInServer();
    const store = createSqlStore({
      execute: async (s) => {
        const rs = await standIn.db.execute(s as never);
        return {
          rows: rs.rows as unknown as Record<string, unknown>[],
          rowsAffected: rs.rowsAffected,
        };
      },
    });
    let val: Awaited<ReturnType<typeof startVal>> | null = null;
    const peer = await createTestPeer();
    try {
      val = await startVal(standIn.base, {
        OPENAI_API_KEY: emulator.apiKey,
        OPENAI_BASE_URL: emulator.baseUrl,
        TRANSCRIPTION_PROMPT: "Vocabulary: Zorblax",
        VALTOWN_STANDIN_FILES_URL: standIn.filesUrl,
        VALTOWN_STANDIN_SQLITE_URL: standIn.sqlUrl,
      });
      // The page comes through std/utils readFile (the process cannot read the disk).
      const page = await fetch(`${val.baseUrl}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /id="start"/);
      const js = await fetch(`${val.baseUrl}/frontend/connection.js`);
      assert.equal(
        js.headers.get("content-type"),
        "text/javascript; charset=utf-8",
      );
      await js.body?.cancel();
      assert.ok(
        standIn.fileReads.includes("frontend/index.html"),
        standIn.fileReads.join(),
      );

      const config = await (await fetch(`${val.baseUrl}/api/config`)).json();
      assert.equal(config.platform, "valtown");
      assert.equal(config.hasKey, true);
      assert.equal(config.demo, false);

      // The session lands in std/sqlite (the SQL bridge), not in a local libSQL file.
      const s = await postJson(val.baseUrl, "/api/session", { language: "en" });
      assert.equal(s.status, 200, JSON.stringify(s.json));
      assert.equal(
        (await store.getSession(s.json.sessionId))?.status,
        "pending",
      );

      const res = await fetch(s.json.realtimeUrl, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${s.json.ephemeralKey}`,
          "Content-Type": "application/sdp",
        },
        body: peer.offer,
      });
      assert.equal(res.status, 201);
      await peer.answer(await res.text());
      const callId = res.headers.get("location")!.split("/").pop()!;
      const sb = await postJson(val.baseUrl, `/api/calls/${callId}/sideband`, {
        ticket: s.json.ticket,
      });
      assert.equal(sb.status, 202);
      // The self-invoked /internal request runs the sideband: the session goes live.
      await waitFor(
        async () => (await store.getSession(s.json.sessionId))?.status === "live",
        {
          timeoutMs: 10_000,
          message: "session live via the self-invoked sideband",
        },
      );
      await waitFor(() => {
        const call = emulator.control.calls()[0] as {
          session: {
            audio: { input: { transcription: { prompt: string | null } } };
          };
        };
        return call.session.audio.input.transcription.prompt?.includes(
          "Zorblax",
        );
      }, { message: "private prompt pushed over the sideband" });

      const h = await postJson(val.baseUrl, `/api/calls/${callId}/hangup`, {
        ticket: s.json.ticket,
      });
      assert.equal(h.status, 200);
      await waitFor(
        async () => (await store.getSession(s.json.sessionId))?.status === "ended",
        {
          timeoutMs: 10_000,
          message: "session ended after hang-up",
        },
      );
      const logs = val.output.join("");
      assert.ok(
        !logs.includes(emulator.apiKey),
        "the API key never appears in the val's logs",
      );
    } catch (err) {
      if (val) console.error(val.output.join(""));
      throw err;
    } finally {
      await peer.close();
      await val?.stop();
      await emulator.close();
      await standIn.server.shutdown();
      standIn.db.close();
    }
  },
});

Deno.test({
  name: "deployed mode without a key: module load survives and /api/config says what to set",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const standIn = startStandInServer();
    let val: Awaited<ReturnType<typeof startVal>> | null = null;
    try {
      val = await startVal(standIn.base, {
        VALTOWN_STANDIN_FILES_URL: standIn.filesUrl,
        VALTOWN_STANDIN_SQLITE_URL: standIn.sqlUrl,
      });
      const config = await (await fetch(`${val.baseUrl}/api/config`)).json();
      assert.equal(config.hasKey, false);
      assert.equal(
        config.keyHelp.url,
        "https://www.val.town/x/tester/hello-transcription/environment-variables?key=OPENAI_API_KEY",
      );
      const s = await postJson(val.baseUrl, "/api/session", {});
      assert.deepEqual([s.status, s.json.error.code], [503, "missing_api_key"]);
      const page = await fetch(`${val.baseUrl}/`);
      assert.equal(page.status, 200);
      await page.body?.cancel();
    } finally {
      await val?.stop();
      await standIn.server.shutdown();
      standIn.db.close();
    }
  },
});

/**
 * README's first command as a new user runs it: `start.ts` (what `deno task start` runs) with NO
 * `OPENAI_API_KEY` in its environment starts the Realtime emulator in-process, says "offline demo"
 * in its log and on `/api/config`, serves the page, mints sessions against the embedded emulator,
 * and exits cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { postJson, waitFor } from "./server.ts";

/** Appends each complete line of `stream` to `into`. */
async function collect(stream: ReadableStream<Uint8Array<ArrayBuffer>>, into: string[]) {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    into.push(...lines.filter((l) => l.trim()));
  }
  if (rest.trim()) into.push(rest);
}

Deno.test({
  name: "deno task start without a key: offline demo on the embedded emulator",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const env: Record<string, string> = { PORT: "0", DATABASE_URL: ":memory:", NO_COLOR: "1" };
    for (const k of ["HOME", "PATH", "DENO_DIR", "DENO_TLS_CA_STORE", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v) env[k] = v;
    }
    const out: string[] = [];
    const err: string[] = [];
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../start.ts", import.meta.url).pathname],
      // A clean environment: no OPENAI_API_KEY, whatever the test runner has.
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
    let exited = false;
    try {
      const line = await waitFor(
        () => out.find((l) => l.includes("hello-transcription is listening")),
        { timeoutMs: 60_000, message: `start.ts listening; stderr: ${err.join("\n")}` },
      );
      const listening = JSON.parse(line);
      assert.match(listening.mode, /^offline demo: transcripts are placeholders/);
      assert.match(listening.emulator, /^http:\/\/127\.0\.0\.1:\d+$/);
      const base = `http://127.0.0.1:${new URL(listening.url).port}`;

      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<button id="start"/);

      const config = await (await fetch(`${base}/api/config`)).json();
      assert.equal(config.demo, true);
      assert.equal(config.hasKey, true);
      assert.equal(config.keyHelp, null);
      assert.equal(
        config.demoMessage,
        "Offline demo — transcripts are placeholders, set OPENAI_API_KEY for real ones",
      );
      assert.equal(config.realtimeBaseUrl, listening.emulator);

      // Start works: the session is minted by the embedded emulator.
      const minted = await postJson(base, "/api/session", { language: "en" });
      assert.equal(minted.status, 200, JSON.stringify(minted.json));
      assert.match(minted.json.ephemeralKey, /^ek_/);
      assert.equal(minted.json.realtimeUrl, `${listening.emulator}/v1/realtime/calls`);
      // The default model: its turns are committed by the page.
      assert.equal(minted.json.model, "gpt-live-transcribe");
      assert.equal(minted.json.clientCommits, true);

      child.kill("SIGTERM");
      const status = await child.status;
      exited = true;
      assert.equal(status.code, 0, err.join("\n"));
    } finally {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
      }
      await reading;
    }
  },
});

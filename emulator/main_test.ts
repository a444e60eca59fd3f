/**
 * The standalone emulator (`deno task emulator` → `emulator/main.ts`) as a real
 * subprocess: it prints the base URL and the accepted key, honours `--api-key` and
 * `EMULATOR_OPTIONS`, serves the API, and exits cleanly on SIGTERM.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);
const MAIN = new URL("./main.ts", import.meta.url);

Deno.test("deno task emulator runs emulator/main.ts", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  assert.match(config.tasks.emulator, /deno run -A emulator\/main\.ts$/);
});

Deno.test("emulator/main.ts prints the base URL and key, serves, and stops on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN.pathname, "--port", "0", "--api-key", "sk-cli"],
    cwd: ROOT.pathname,
    env: { EMULATOR_OPTIONS: JSON.stringify({ sessionMaxSeconds: 120 }) },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let killed = false;
  try {
    while (!/Control API: .*\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const base = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    assert.ok(base, out);
    assert.match(out, /Accepted API key: sk-cli\n/);
    assert.match(out, /Control API: http:\/\/127\.0\.0\.1:\d+\/_emulator\//);

    const secret = (key: string) =>
      fetch(`${base}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ session: { type: "transcription" } }),
      });
    const ok = await secret("sk-cli");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const bad = await secret("sk-emulator-local");
    assert.equal(bad.status, 401);
    await bad.body?.cancel();

    // EMULATOR_OPTIONS reached startEmulator(): sessions last 120 s.
    const ws = new WebSocket(
      `${base!.replace("http", "ws")}/v1/realtime?intent=transcription`,
      // deno-lint-ignore no-explicit-any
      { headers: { Authorization: "Bearer sk-cli" } } as any,
    );
    const created = await new Promise<{ session: { expires_at: number } }>(
      (resolve, reject) => {
        ws.onmessage = (m) => resolve(JSON.parse(m.data));
        ws.onerror = () => reject(new Error("socket error"));
      },
    );
    const left = created.session.expires_at - Date.now() / 1000;
    assert.ok(left > 100 && left <= 121, `expires in ${left} s`);
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;

    child.kill("SIGTERM");
    killed = true;
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    if (!killed) child.kill("SIGKILL");
    await reader.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    if (!killed) await child.status;
  }
});

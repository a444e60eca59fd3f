/**
 * `GET /_emulator/requests`: the emulator's list of REST answers (method, path, status and the
 * `x-request-id` it sent), so a test can count upstream attempts and match logged request ids.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startEmulator } from "./mod.ts";

Deno.test("control: the request log lists REST answers with their x-request-id, filters by path, clears", async () => {
  const emu = await startEmulator({ refuseOptions: { "gpt-transcribe": ["prompt"] } });
  try {
    const mint = (prompt?: string) =>
      fetch(`${emu.baseUrl}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          session: {
            type: "transcription",
            audio: { input: { transcription: { model: "gpt-transcribe", prompt } } },
          },
        }),
      });
    const refused = await mint("Names");
    await refused.body?.cancel();
    const ok = await mint();
    await ok.body?.cancel();
    const missing = await fetch(`${emu.baseUrl}/v1/nothing`);
    await missing.body?.cancel();
    // The control API itself is not listed.
    await (await fetch(`${emu.baseUrl}/_emulator/health`)).body?.cancel();

    const all = await (await fetch(`${emu.baseUrl}/_emulator/requests`)).json();
    assert.deepEqual(
      all.requests.map((r: { method: string; path: string; status: number }) => [
        r.method,
        r.path,
        r.status,
      ]),
      [
        ["POST", "/v1/realtime/client_secrets", 400],
        ["POST", "/v1/realtime/client_secrets", 200],
        ["GET", "/v1/nothing", 404],
      ],
    );
    assert.equal(all.requests[0].requestId, refused.headers.get("x-request-id"));
    assert.equal(all.requests[1].requestId, ok.headers.get("x-request-id"));
    assert.notEqual(all.requests[0].requestId, all.requests[1].requestId);

    const mints = await (await fetch(
      `${emu.baseUrl}/_emulator/requests?path=/v1/realtime/client_secrets`,
    )).json();
    assert.equal(mints.requests.length, 2);
    assert.equal(emu.control.requests("/v1/nothing").length, 1);

    const cleared = await fetch(`${emu.baseUrl}/_emulator/requests`, { method: "DELETE" });
    assert.deepEqual(await cleared.json(), { requests: [] });
    assert.equal(emu.control.requests().length, 0);
    await (await mint()).body?.cancel();
    await emu.control.reset();
    assert.equal(emu.control.requests().length, 0);
  } finally {
    await emu.close();
  }
});

import assert from "node:assert/strict";
import { startTestApp } from "../testing/server.ts";

Deno.test("GET /api/models lists every model with options and shutdown dates", async () => {
  const t = await startTestApp({
    env: { TRANSCRIPTION_MODEL: "gpt-live-transcribe" },
  });
  try {
    const res = await fetch(`${t.baseUrl}/api/models`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.defaultModel, "gpt-live-transcribe");
    const byId = Object.fromEntries(
      body.models.map((m: { id: string }) => [m.id, m]),
    );
    assert.equal(byId["whisper-1"].shutdownDate, "2027-02-26");
    assert.equal(byId["gpt-transcribe"].status, "current");
    assert.equal(byId["gpt-realtime-whisper"].supports.turnDetection, false);
    assert.deepEqual(byId["gpt-realtime-whisper"].supports.turnDetectionTypes, []);
    assert.deepEqual(byId["gpt-transcribe"].supports.turnDetectionTypes, [
      "server_vad",
      "semantic_vad",
    ]);
    assert.equal(byId["gpt-transcribe"].supports.noiseReductionStrength, true);
    assert.equal(byId["gpt-transcribe"].supports.delay, false);
    assert.equal(byId["gpt-realtime-whisper"].supports.delay, true);
    // OpenAI runs gpt-live-transcribe without turn detection; the price per minute is served.
    assert.equal(byId["gpt-live-transcribe"].supports.turnDetection, false);
    assert.equal(byId["gpt-live-transcribe"].defaultTurnDetection, null);
    assert.equal(byId["gpt-transcribe"].defaultTurnDetection, "server_vad");
    assert.equal(byId["gpt-live-transcribe"].pricePerMinuteUsd, 0.017);
    assert.equal(byId["gpt-transcribe"].pricePerMinuteUsd, 0.0045);
    assert.equal(byId["whisper-1"].pricePerMinuteUsd, null);
    const post = await fetch(`${t.baseUrl}/api/models`, { method: "POST" });
    assert.equal(post.status, 404);
    await post.body?.cancel();
  } finally {
    await t.close();
  }
});

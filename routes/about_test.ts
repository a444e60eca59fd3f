import assert from "node:assert/strict";
import { startTestApp } from "../testing/server.ts";

Deno.test("GET /api/config describes the mode without any secret", async () => {
  const t = await startTestApp({ demo: true });
  try {
    const c = await (await fetch(`${t.baseUrl}/api/config`)).json();
    assert.equal(c.demo, true);
    assert.match(
      c.demoMessage,
      /offline demo — transcripts are placeholders, set OPENAI_API_KEY/i,
    );
    assert.equal(c.hasKey, true);
    assert.equal(c.keyHelp, null);
    assert.equal(c.platform, "local");
    assert.equal(c.defaultModel, "gpt-live-transcribe");
    const text = JSON.stringify(c);
    for (
      const secret of [
        t.emulator.apiKey,
        t.deps.config.signingSecret,
        t.deps.config.internalSecret,
      ]
    ) {
      assert.ok(!text.includes(secret));
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /api/config on Val Town without a key says which variable to set and where", async () => {
  const t = await startTestApp({
    noKey: true,
    platform: "valtown",
    env: {
      VALTOWN_ENTRYPOINT: "https://esm.town/v/alice/hello-transcription/main.tsx",
    },
  });
  try {
    const c = await (await fetch(`${t.baseUrl}/api/config`)).json();
    assert.equal(c.hasKey, false);
    assert.equal(c.platform, "valtown");
    assert.equal(c.keyHelp.envVar, "OPENAI_API_KEY");
    assert.equal(
      c.keyHelp.url,
      "https://www.val.town/x/alice/hello-transcription/environment-variables?key=OPENAI_API_KEY",
    );
    assert.match(c.keyHelp.message, /OPENAI_API_KEY/);
  } finally {
    await t.close();
  }
});

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

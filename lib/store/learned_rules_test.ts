import assert from "node:assert/strict";
import { open, tempDbUrl } from "./testdata/events.ts";
import type { LearnedRuleRow } from "./types.ts";

function rule(patch: Partial<LearnedRuleRow> = {}): LearnedRuleRow {
  return {
    model: "gpt-transcribe",
    option: "turnDetection",
    upstreamMessage: "Turn detection is not supported for this transcription model.",
    requestId: "req_1",
    learnedAt: 1_000,
    expiresAt: 10_000,
    ...patch,
  };
}

Deno.test("learned rules: one per model and option, renewed in place, expired ones hidden then dropped", async () => {
  const { url, dir } = await tempDbUrl();
  const store = await open(url);
  try {
    await store.recordLearnedRule(rule());
    await store.recordLearnedRule(rule({ option: "prompt", requestId: null }));
    await store.recordLearnedRule(rule({ model: "gpt-4o-transcribe", expiresAt: 2_000 }));
    assert.deepEqual((await store.listLearnedRules(1_500)).map((r) => [r.model, r.option]), [
      ["gpt-4o-transcribe", "turnDetection"],
      ["gpt-transcribe", "prompt"],
      ["gpt-transcribe", "turnDetection"],
    ]);
    // Expired: no longer listed.
    assert.equal((await store.listLearnedRules(2_000)).length, 2);
    // The same refusal again renews the rule instead of adding one.
    await store.recordLearnedRule(
      rule({ requestId: "req_2", learnedAt: 5_000, expiresAt: 50_000 }),
    );
    const rows = await store.listLearnedRules(9_000);
    assert.equal(rows.length, 2);
    const td = rows.find((r) => r.option === "turnDetection")!;
    assert.deepEqual(td, rule({ requestId: "req_2", learnedAt: 5_000, expiresAt: 50_000 }));
    assert.equal(rows.find((r) => r.option === "prompt")!.requestId, null);
  } finally {
    await store.close();
  }
  // Reopening the file (migrations run again) keeps the rules; the expired row was dropped.
  const again = await open(url);
  try {
    assert.equal((await again.listLearnedRules(0)).length, 2);
  } finally {
    await again.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("updateSession can replace a session's settings", async () => {
  const store = await open(":memory:");
  try {
    const s = await store.createSession({
      source: "webrtc",
      model: "gpt-transcribe",
      settings: { turnDetection: { type: "server_vad" } },
    });
    await store.updateSession(s.id, { settings: { turnDetection: { type: "none" } } });
    assert.deepEqual((await store.getSession(s.id))?.settings, {
      turnDetection: { type: "none" },
    });
  } finally {
    await store.close();
  }
});

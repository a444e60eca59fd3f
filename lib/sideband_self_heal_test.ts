/**
 * The sideband's `session.update` heals like the mint: the emulator refuses the prompt for
 * gpt-transcribe, so the update carrying the server-private prompt is answered with an `error`;
 * the sideband sends it once more without the prompt, and the learned rule keeps the next
 * connection from trying.
 */
import assert from "node:assert/strict";
import { runSideband } from "./sideband.ts";
import { waitFor } from "../testing/server.ts";
import { openLiveCall } from "../testing/live_call.ts";

const T = { sanitizeResources: false, sanitizeOps: false };
const REFUSE_PROMPT = {
  env: { TRANSCRIPTION_PROMPT: "Vocabulary: Zorblax" },
  emulator: { refuseOptions: { "gpt-transcribe": ["prompt" as const] } },
};

/** The types of the events the sideband recorded, once `session.updated` is among them. */
function recordedUntilUpdated(s: Awaited<ReturnType<typeof openLiveCall>>) {
  return waitFor(async () => {
    const types = (await s.store.listEvents(s.sessionId)).map((e) => e.type);
    return types.includes("session.updated") ? types : null;
  }, { message: "session.updated recorded" });
}

Deno.test({
  ...T,
  name: "a refused option in the sideband's update is dropped on one retry and learned",
  fn: async () => {
    const s = await openLiveCall(REFUSE_PROMPT);
    const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
    try {
      const done = runSideband({
        ...s,
        log: (level, message, fields) => logs.push({ level, message, fields }),
      });
      const types = await recordedUntilUpdated(s);
      // The first update was refused, the second (without the prompt) applied.
      assert.deepEqual(types.filter((t) => t === "error" || t === "session.updated"), [
        "error",
        "session.updated",
      ]);
      const rules = await s.store.listLearnedRules(Date.now());
      assert.deepEqual(rules.map((r) => [r.model, r.option]), [["gpt-transcribe", "prompt"]]);
      assert.match(rules[0].upstreamMessage, /prompt/);
      const warn = logs.find((l) => l.message.startsWith("OpenAI refused an option"));
      assert.equal(warn?.level, "warn");
      assert.equal(warn?.fields?.option, "prompt");
      assert.doesNotMatch(JSON.stringify(logs), /Zorblax|sk-emulator/);
      assert.equal(await s.upstream.hangup(s.callId), true);
      assert.equal((await done).endReason, "hangup");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "a learned prompt rule keeps the private prompt out of the sideband's update",
  fn: async () => {
    const s = await openLiveCall(REFUSE_PROMPT);
    try {
      const now = Date.now();
      await s.store.recordLearnedRule({
        model: "gpt-transcribe",
        option: "prompt",
        upstreamMessage: "Unsupported parameter: 'session.audio.input.transcription.prompt'.",
        requestId: null,
        learnedAt: now,
        expiresAt: now + 60_000,
      });
      const done = runSideband(s);
      const types = await recordedUntilUpdated(s);
      assert.equal(types.includes("error"), false, types.join());
      assert.equal(await s.upstream.hangup(s.callId), true);
      await done;
    } finally {
      await s.close();
    }
  },
});

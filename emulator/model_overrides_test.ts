/**
 * The per-model switches (`omitLogprobsModels`, `refuseOptions`) at start and through
 * `/_emulator/models`, over real HTTP and WebSockets: refusals carry the live error shape, a
 * refused turn detection behaves like a model without one, logprobs can be left out per model.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  appendAudio,
  assertEnvelope,
  type Ev,
  post,
  silence,
  startTestEmulator,
  tone,
  transcriptionSocket,
} from "./testkit.ts";
import type { RunningEmulator } from "./mod.ts";

const LOGPROBS = "item.input_audio_transcription.logprobs";

function mint(emu: RunningEmulator, input: Ev, include?: string[]) {
  return post(emu, "/v1/realtime/client_secrets", {
    session: { type: "transcription", audio: { input }, ...(include ? { include } : {}) },
  });
}

async function models(emu: RunningEmulator, method: string, body?: unknown) {
  const res = await fetch(`${emu.baseUrl}/_emulator/models`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

Deno.test("refuseOptions at start: each option refused with invalid_request_error and its param", async () => {
  const emu = await startTestEmulator({
    refuseOptions: {
      "gpt-transcribe": [
        "turn_detection",
        "logprobs",
        "prompt",
        "keywords",
        "languages",
        "noise_reduction",
      ],
      "gpt-realtime-whisper": ["delay"],
    },
  });
  try {
    const t = (extra: Ev) => ({ model: "gpt-transcribe", ...extra });
    const cases: [Ev, string[] | undefined, string, string][] = [
      [
        { transcription: t({}), turn_detection: { type: "server_vad" } },
        undefined,
        "invalid_value",
        "session.audio.input.turn_detection",
      ],
      [{ transcription: t({}) }, [LOGPROBS], "unsupported_parameter", "session.include"],
      [
        { transcription: t({ prompt: "x" }) },
        undefined,
        "unsupported_parameter",
        "session.audio.input.transcription.prompt",
      ],
      [
        { transcription: t({ keywords: ["x"] }) },
        undefined,
        "unsupported_parameter",
        "session.audio.input.transcription.keywords",
      ],
      [
        { transcription: t({ languages: ["en"] }) },
        undefined,
        "unsupported_parameter",
        "session.audio.input.transcription.languages",
      ],
      [
        { transcription: t({}), noise_reduction: { type: "near_field" } },
        undefined,
        "unsupported_parameter",
        "session.audio.input.noise_reduction",
      ],
      [
        { transcription: { model: "gpt-realtime-whisper", delay: "low" } },
        undefined,
        "unsupported_parameter",
        "session.audio.input.transcription.delay",
      ],
    ];
    for (const [input, include, code, param] of cases) {
      const r = await mint(emu, input, include);
      assert.equal(r.status, 400, JSON.stringify(input));
      assertEnvelope(r.json, code, param);
      assert.equal(r.json!.error.type, "invalid_request_error");
    }
    const td = await mint(emu, { transcription: t({}), turn_detection: { type: "semantic_vad" } });
    assert.equal(
      td.json!.error.message,
      "Turn detection is not supported for this transcription model.",
    );
    // A refused turn detection behaves like a model without one: omitted means none.
    const omitted = await mint(emu, { transcription: t({}) });
    assert.equal(omitted.status, 200, omitted.text);
    assert.equal(omitted.json!.session.audio.input.turn_detection, null);
    // Other models are not affected.
    const other = await mint(emu, {
      transcription: { model: "gpt-4o-transcribe", prompt: "x" },
      turn_detection: { type: "server_vad" },
    }, [LOGPROBS]);
    assert.equal(other.status, 200, other.text);
  } finally {
    await emu.close();
  }
});

Deno.test("/_emulator/models: set at run time (also for session.update), '*', validation, DELETE and reset restore", async () => {
  const emu = await startTestEmulator({ refuseOptions: { "whisper-1": ["prompt"] } });
  try {
    const start = await models(emu, "GET");
    assert.deepEqual(start.json, {
      omitLogprobs: ["whisper-1", "gpt-4o-transcribe-diarize"],
      refuse: { "whisper-1": ["prompt"] },
    });
    const set = await models(emu, "POST", { refuse: { "*": ["keywords"] } });
    assert.equal(set.status, 200);
    assert.deepEqual(set.json.refuse, { "*": ["keywords"] });
    const r = await mint(emu, { transcription: { model: "gpt-transcribe", keywords: ["x"] } });
    assertEnvelope(r.json, "unsupported_parameter", "session.audio.input.transcription.keywords");
    // The same refusal reaches a session.update as an error event; the update is discarded.
    const s = await transcriptionSocket(emu);
    try {
      s.send({
        type: "session.update",
        event_id: "ev_1",
        session: {
          type: "transcription",
          audio: { input: { transcription: { model: "gpt-live-transcribe", keywords: ["x"] } } },
        },
      });
      const e = await s.waitFor("error");
      assert.equal(e.error.param, "session.audio.input.transcription.keywords");
      assert.equal(e.error.event_id, "ev_1");
      assert.ok(!s.types().includes("session.updated"));
    } finally {
      await s.close();
    }
    for (
      const bad of [
        { refuse: { "gpt-9": ["prompt"] } },
        { refuse: { "gpt-transcribe": ["colour"] } },
        { omitLogprobs: "gpt-transcribe" },
        { other: true },
      ]
    ) {
      const b = await models(emu, "POST", bad);
      assert.equal(b.status, 400, JSON.stringify(bad));
      assert.equal(b.json.error.type, "invalid_request_error");
    }
    assert.deepEqual((await models(emu, "DELETE")).json.refuse, { "whisper-1": ["prompt"] });
    await models(emu, "POST", { omitLogprobs: [] });
    await post(emu, "/_emulator/reset", {});
    assert.deepEqual((await models(emu, "GET")).json, start.json);
  } finally {
    await emu.close();
  }
});

Deno.test("omitLogprobsModels: logprobs asked for and left out per model, switchable at run time", async () => {
  const emu = await startTestEmulator({ omitLogprobsModels: ["gpt-transcribe"] });
  const run = async () => {
    const s = await transcriptionSocket(emu, {
      type: "transcription",
      audio: { input: { transcription: { model: "gpt-transcribe" }, turn_detection: null } },
      include: [LOGPROBS],
    });
    try {
      emu.control.queueTranscripts(["Confidence or not."]);
      appendAudio(s, tone(400));
      appendAudio(s, silence(100));
      s.send({ type: "input_audio_buffer.commit" });
      const done = await s.waitFor("conversation.item.input_audio_transcription.completed");
      const deltas = s.events.filter((e) =>
        e.type === "conversation.item.input_audio_transcription.delta"
      );
      return { done, deltas };
    } finally {
      await s.close();
    }
  };
  try {
    const without = await run();
    assert.equal(without.done.logprobs, undefined);
    assert.ok(without.deltas.every((d) => d.logprobs === undefined));
    // whisper-1 is no longer on the list, gpt-transcribe is; now give gpt-transcribe logprobs.
    await models(emu, "POST", { omitLogprobs: [] });
    const withLp = await run();
    assert.ok(Array.isArray(withLp.done.logprobs) && withLp.done.logprobs.length > 0);
    assert.ok(withLp.deltas.every((d) => Array.isArray(d.logprobs)));
  } finally {
    await emu.close();
  }
});

/**
 * The `/_emulator/` control API over real HTTP: transcript queue, call listing,
 * fault validation, reset; and the `gpt-live-transcribe` speech-event option.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  appendAudio,
  post,
  silence,
  startTestEmulator,
  tone,
  transcriptionSocket,
} from "./testkit.ts";

async function control(
  base: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(base + path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

Deno.test("control: transcripts queue (global and per call), calls listing, reset", async () => {
  const emu = await startTestEmulator();
  try {
    const bad = await control(emu.baseUrl, "POST", "/_emulator/transcripts", {
      text: "x",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "unknown_parameter");
    const q = await control(emu.baseUrl, "POST", "/_emulator/transcripts", {
      texts: ["global one"],
    });
    assert.deepEqual(q.json.queued.global, ["global one"]);

    const s = await transcriptionSocket(emu, {
      type: "transcription",
      audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
    });
    const sessionId = s.events[0].session.id;
    await control(emu.baseUrl, "POST", "/_emulator/transcripts", {
      texts: ["mine"],
      callId: sessionId,
    });
    appendAudio(s, silence(200));
    appendAudio(s, tone(600));
    appendAudio(s, silence(500));
    const done = await s.waitFor(
      "conversation.item.input_audio_transcription.completed",
    );
    assert.equal(done.transcript, "mine");

    const calls = await control(emu.baseUrl, "GET", "/_emulator/calls");
    assert.equal(calls.status, 200);
    const c = calls.json.calls.find((x: { id: string }) => x.id === sessionId);
    assert.equal(c.kind, "websocket");
    assert.equal(c.state, "active");
    assert.equal(c.utterances, 1);
    assert.equal(c.transcriptsCompleted, 1);
    assert.ok(c.audioMs >= 1200);
    assert.equal(c.connections.length, 1);
    assert.equal(
      c.session.audio.input.transcription.model,
      "gpt-4o-transcribe",
    );
    const queue = await control(emu.baseUrl, "GET", "/_emulator/transcripts");
    assert.deepEqual(queue.json.global, ["global one"]);

    const reset = await control(emu.baseUrl, "POST", "/_emulator/reset");
    assert.equal(reset.status, 200);
    assert.equal((await s.closed).code, 1001);
    assert.deepEqual(
      (await control(emu.baseUrl, "GET", "/_emulator/calls")).json.calls,
      [],
    );
    assert.deepEqual(
      (await control(emu.baseUrl, "GET", "/_emulator/transcripts")).json.global,
      [],
    );
  } finally {
    await emu.close();
  }
});

Deno.test("control: fault validation and unknown paths", async () => {
  const emu = await startTestEmulator();
  try {
    const bad = await control(emu.baseUrl, "POST", "/_emulator/faults", {
      rest: [{ endpoint: "nope", status: 500 }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, "rest[0].endpoint");
    const unknown = await control(emu.baseUrl, "POST", "/_emulator/faults", {
      explode: true,
    });
    assert.equal(unknown.json.error.param, "explode");
    assert.equal(
      (await control(emu.baseUrl, "GET", "/_emulator/nope")).status,
      404,
    );
    const f = await control(emu.baseUrl, "POST", "/_emulator/faults", {
      rest: [{ endpoint: "*", status: 503 }],
    });
    assert.equal(f.json.faults.rest[0].count, 1);
    assert.equal(
      (await post(emu, "/v1/realtime/client_secrets", {})).status,
      503,
    );
    assert.equal(
      (await post(emu, "/v1/realtime/client_secrets", {})).status,
      200,
    );
  } finally {
    await emu.close();
  }
});

for (const speechEvents of [false, true]) {
  Deno.test(`gpt-live-transcribe with liveTranscribeSpeechEvents=${speechEvents}`, async () => {
    const emu = await startTestEmulator({
      liveTranscribeSpeechEvents: speechEvents,
      streamingWordIntervalMs: 150,
    });
    const s = await transcriptionSocket(emu, {
      type: "transcription",
      audio: {
        input: {
          transcription: { model: "gpt-live-transcribe", keywords: ["Deno"] },
        },
      },
    });
    try {
      emu.control.queueTranscripts(["live words stream while talking"]);
      appendAudio(s, silence(200));
      appendAudio(s, tone(1000));
      await s.waitFor("conversation.item.input_audio_transcription.delta");
      appendAudio(s, silence(600));
      if (!speechEvents) {
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(!s.types().includes("input_audio_buffer.committed"));
        s.send({ type: "input_audio_buffer.commit" });
      }
      const done = await s.waitFor(
        "conversation.item.input_audio_transcription.completed",
      );
      assert.equal(done.transcript, "live words stream while talking");
      assert.deepEqual(done.languages, [{ code: "en" }]);
      assert.equal(
        s.types().includes("input_audio_buffer.speech_started"),
        speechEvents,
      );
      assert.equal(
        s.types().includes("input_audio_buffer.speech_stopped"),
        speechEvents,
      );
    } finally {
      await s.close();
      await emu.close();
    }
  });
}

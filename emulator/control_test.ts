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
  // gpt-live-transcribe takes no turn detection: the client commits either way; the option only
  // decides whether speech boundaries are still reported.
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
      if (speechEvents) await s.waitFor("input_audio_buffer.speech_stopped");
      else await new Promise((r) => setTimeout(r, 100));
      assert.ok(!s.types().includes("input_audio_buffer.committed"));
      const updated = s.events.findLast((e) => e.type === "session.updated")!;
      assert.equal(updated.session.audio.input.turn_detection, null);
      s.send({ type: "input_audio_buffer.commit" });
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

Deno.test("control: default fault bodies, GET faults, GET calls/{id}, health, sideband fault", async () => {
  const emu = await startTestEmulator();
  try {
    assert.deepEqual(
      await control(emu.baseUrl, "GET", "/_emulator/health"),
      { status: 200, json: { ok: true } },
    );
    // Without a body each status gets OpenAI's envelope for it.
    const set = await control(emu.baseUrl, "POST", "/_emulator/faults", {
      rest: [400, 401, 429, 503, 500].map((status) => ({
        endpoint: "client_secrets",
        status,
      })),
    });
    assert.equal(set.status, 200);
    const got = await control(emu.baseUrl, "GET", "/_emulator/faults");
    assert.deepEqual(
      got.json.rest.map((r: { status: number; count: number }) => [
        r.status,
        r.count,
      ]),
      [[400, 1], [401, 1], [429, 1], [503, 1], [500, 1]],
    );
    const r400 = await post(emu, "/v1/realtime/client_secrets", {});
    assert.equal(r400.status, 400);
    assert.deepEqual(r400.json, {
      error: { message: "", type: "", code: "", param: "" },
    });
    const r401 = await post(emu, "/v1/realtime/client_secrets", {});
    assert.equal(r401.status, 401);
    assert.equal(r401.json!.error.code, "invalid_api_key");
    assert.ok(!r401.text.includes(emu.apiKey));
    const r429 = await post(emu, "/v1/realtime/client_secrets", {});
    assert.equal(r429.status, 429);
    assert.equal(r429.json!.error.code, "rate_limit_exceeded");
    assert.equal(r429.headers.get("retry-after"), "1");
    const r503 = await post(emu, "/v1/realtime/client_secrets", {});
    assert.equal(r503.status, 503);
    assert.match(r503.json!.error.message, /overloaded/);
    const r500 = await post(emu, "/v1/realtime/client_secrets", {});
    assert.equal(r500.status, 500);
    assert.equal(r500.json!.error.type, "server_error");
    assert.equal(
      (await post(emu, "/v1/realtime/client_secrets", {})).status,
      200,
    );
    assert.deepEqual(
      (await control(emu.baseUrl, "GET", "/_emulator/faults")).json.rest,
      [],
    );

    // GET /_emulator/calls/{id}: one call, 404 for an unknown id.
    const s = await transcriptionSocket(emu);
    const id = s.events[0].session.id;
    const one = await control(emu.baseUrl, "GET", `/_emulator/calls/${id}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.id, id);
    assert.equal(one.json.kind, "websocket");
    const none = await control(emu.baseUrl, "GET", "/_emulator/calls/rtc_nope");
    assert.equal(none.status, 404);
    assert.equal(none.json.error.code, "call_not_found");
    await s.close();

    // A `sideband` REST fault answers the handshake itself (no upgrade).
    await control(emu.baseUrl, "POST", "/_emulator/faults", {
      rest: [{ endpoint: "sideband", status: 503 }],
    });
    const hs = await fetch(
      `${emu.baseUrl}/v1/realtime?call_id=rtc_whatever`,
      {
        headers: {
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "13",
          Authorization: `Bearer ${emu.apiKey}`,
        },
      },
    );
    assert.equal(hs.status, 503);
    assert.match((await hs.json()).error.message, /overloaded/);
  } finally {
    await emu.close();
  }
});

Deno.test("control: ended calls are kept up to keepEndedCalls, oldest dropped first", async () => {
  const emu = await startTestEmulator({ keepEndedCalls: 2 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await transcriptionSocket(emu);
      ids.push(s.events[0].session.id);
      await s.close();
    }
    const live = await transcriptionSocket(emu);
    try {
      const deadline = Date.now() + 5000;
      let listed: { id: string; state: string }[] = [];
      do {
        await new Promise((r) => setTimeout(r, 20));
        listed = (await control(emu.baseUrl, "GET", "/_emulator/calls")).json
          .calls;
        assert.ok(Date.now() < deadline, JSON.stringify(listed));
      } while (listed.filter((c) => c.state === "ended").length !== 2);
      assert.deepEqual(
        listed.filter((c) => c.state === "ended").map((c) => c.id),
        ids.slice(2),
      );
      // Active calls are never dropped.
      assert.ok(
        listed.some((c) => c.id === live.events[0].session.id && c.state === "active"),
      );
    } finally {
      await live.close();
    }
  } finally {
    await emu.close();
  }
});

/**
 * Conformance, protocol reference §5.3 and §6.2–6.4 with real audio: espeak-ng WAVs
 * streamed as base64 24 kHz PCM16 over `?intent=transcription` sockets run the same
 * VAD and engine as WebRTC calls.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeSpeechWav, makeUtterancesWav } from "../testing/speech.ts";
import { readWav } from "./audio.ts";
import {
  appendAudio,
  type Ev,
  type EventSocket,
  silence,
  startTestEmulator,
  tone,
  transcriptionSocket,
} from "./testkit.ts";

const T = {};
const DELTA = "conversation.item.input_audio_transcription.delta";
const COMPLETED = "conversation.item.input_audio_transcription.completed";

async function wav24k(path: string): Promise<Int16Array> {
  const w = readWav(await Deno.readFile(path));
  assert.equal(w.sampleRate, 24000);
  return w.samples;
}

function model(m: string, extra: Ev = {}, input: Ev = {}): Ev {
  return {
    type: "transcription",
    audio: { input: { transcription: { model: m, ...extra }, ...input } },
  };
}

function itemEvents(s: EventSocket, item: string): string[] {
  return s.events.filter((e) => e.item_id === item || e.item?.id === item).map((
    e,
  ) => e.type);
}

Deno.test(
  "§6.3 espeak WAV over ?intent=transcription: speech region, canonical order, queued text, usage",
  T,
  async () => {
    const text = "Testing the realtime emulator with real speech.";
    const wav = await makeSpeechWav(text, {
      sampleRate: 24000,
      padStartSec: 1,
      padEndSec: 1.5,
    });
    const emu = await startTestEmulator();
    const s = await transcriptionSocket(emu, model("gpt-4o-transcribe"));
    try {
      emu.control.queueTranscripts([text]);
      appendAudio(s, await wav24k(wav.path));
      const done = await s.waitFor(COMPLETED);
      const started = s.events.find((e) => e.type === "input_audio_buffer.speech_started")!;
      const stopped = s.events.find((e) => e.type === "input_audio_buffer.speech_stopped")!;
      // audio_start_ms includes the 300 ms prefix padding; both within ±100 ms of
      // the WAV's true speech region (issue #2 item 10).
      assert.ok(
        Math.abs(started.audio_start_ms + 300 - wav.speechStartMs) <= 100,
        `start ${started.audio_start_ms} vs ${wav.speechStartMs}`,
      );
      // Default `speechStoppedAudioEnd: "silence_end"`: audio_end_ms includes the silence.
      const silenceMs = s.events.find((e) => e.type === "session.created")!.session.audio.input
        .turn_detection.silence_duration_ms;
      assert.equal(silenceMs, 200);
      assert.ok(
        Math.abs(stopped.audio_end_ms - silenceMs - wav.speechEndMs) <= 100,
        `end ${stopped.audio_end_ms} - ${silenceMs} vs ${wav.speechEndMs}`,
      );
      const item = started.item_id;
      const seq = itemEvents(s, item);
      assert.deepEqual(seq.filter((t) => t !== DELTA), [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        COMPLETED,
      ]);
      assert.ok(seq.indexOf(DELTA) > seq.indexOf("conversation.item.done"));
      assert.ok(seq.lastIndexOf(DELTA) < seq.indexOf(COMPLETED));
      assert.equal(done.transcript, text);
      assert.equal(
        s.events.filter((e) => e.type === DELTA).map((e) => e.delta).join(""),
        text,
      );
      assert.ok(s.events.filter((e) => e.type === DELTA).length > 3);
      assert.equal(
        s.events.find((e) => e.type === "input_audio_buffer.committed")!
          .previous_item_id,
        null,
      );
      const added = s.events.find((e) => e.type === "conversation.item.added")!;
      assert.deepEqual(added.item.content, [{
        type: "input_audio",
        transcript: null,
      }]);
      assert.equal(done.usage.type, "tokens");
      assert.equal(
        done.usage.total_tokens,
        done.usage.input_tokens + done.usage.output_tokens,
      );
      assert.equal(done.content_index, 0);
      assert.equal(done.logprobs, undefined);
    } finally {
      await s.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§6.4 two utterances: previous_item_id chain, per-call queue, placeholder when empty, out-of-order only when asked",
  T,
  async () => {
    const wav = await makeUtterancesWav([
      "First sentence here.",
      "And the second one.",
    ], { sampleRate: 24000, padStartSec: 0.5, padEndSec: 1.5, gapSec: 1.2 });
    const audio = await wav24k(wav.path);
    for (const outOfOrder of [false, true]) {
      const emu = await startTestEmulator({ completedDelayMs: 150 });
      const s = await transcriptionSocket(emu, model("gpt-4o-mini-transcribe"));
      try {
        emu.control.queueTranscripts(["per-call text"], s.events[0].session.id);
        if (outOfOrder) {
          await fetch(`${emu.baseUrl}/_emulator/faults`, {
            method: "POST",
            body: JSON.stringify({ outOfOrderCompleted: true }),
          }).then((r) => r.body?.cancel());
        }
        appendAudio(s, audio);
        const deadline = Date.now() + 8000;
        while (s.events.filter((x) => x.type === COMPLETED).length < 2) {
          assert.ok(Date.now() < deadline, `timed out: ${s.types()}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const commits = s.events.filter((e) => e.type === "input_audio_buffer.committed");
        assert.equal(commits.length, 2);
        assert.equal(commits[1].previous_item_id, commits[0].item_id);
        const completed = s.events.filter((e) => e.type === COMPLETED);
        const order = completed.map((e) => e.item_id);
        if (outOfOrder) {
          assert.deepEqual(order, [commits[1].item_id, commits[0].item_id]);
        } else {assert.deepEqual(order, [
            commits[0].item_id,
            commits[1].item_id,
          ]);}
        const byItem = Object.fromEntries(
          completed.map((e) => [e.item_id, e.transcript]),
        );
        assert.equal(byItem[commits[0].item_id], "per-call text");
        assert.match(byItem[commits[1].item_id], /^\[speech \d+\.\d s\]$/);
        // Within an item the order holds even when completions cross items.
        for (const c of commits) {
          const seq = itemEvents(s, c.item_id);
          assert.ok(seq.lastIndexOf(DELTA) < seq.indexOf(COMPLETED));
        }
      } finally {
        await s.close();
        await emu.close();
      }
    }
  },
);

Deno.test(
  "§5.3 per-model: whisper-1 single delta + duration usage; logprobs; gpt-transcribe languages; failed fault",
  T,
  async () => {
    const emu = await startTestEmulator();
    try {
      const speech = () => [silence(300), tone(800), silence(600)];
      const w = await transcriptionSocket(emu, model("whisper-1"));
      emu.control.queueTranscripts(["Whisper says hi."]);
      for (const p of speech()) appendAudio(w, p);
      const wd = await w.waitFor(COMPLETED);
      const deltas = w.events.filter((e) => e.type === DELTA);
      assert.equal(deltas.length, 1);
      assert.equal(deltas[0].delta, "Whisper says hi.");
      assert.equal(wd.usage.type, "duration");
      await w.close();

      const lp = await transcriptionSocket(emu, {
        ...model("gpt-4o-transcribe"),
        include: ["item.input_audio_transcription.logprobs"],
      });
      emu.control.queueTranscripts(["two words"]);
      for (const p of speech()) appendAudio(lp, p);
      const ld = await lp.waitFor(COMPLETED);
      assert.equal(ld.logprobs.length, 2);
      for (const l of ld.logprobs) {
        assert.equal(typeof l.token, "string");
        assert.ok(l.logprob < 0);
        assert.deepEqual(
          l.bytes,
          Array.from(new TextEncoder().encode(l.token)),
        );
      }
      assert.ok(
        lp.events.filter((e) => e.type === DELTA).every((e) => Array.isArray(e.logprobs)),
      );
      await lp.close();

      const gt = await transcriptionSocket(
        emu,
        model("gpt-transcribe", {
          languages: ["de", "en"],
          keywords: ["Deno"],
        }),
      );
      for (const p of speech()) appendAudio(gt, p);
      const gd = await gt.waitFor(COMPLETED);
      assert.deepEqual(gd.languages, [{ code: "de" }]);
      await gt.close();

      const f = await transcriptionSocket(emu, model("gpt-4o-transcribe"));
      await fetch(`${emu.baseUrl}/_emulator/faults`, {
        method: "POST",
        body: JSON.stringify({ failTranscriptions: 1 }),
      }).then((r) => r.body?.cancel());
      for (const p of speech()) appendAudio(f, p);
      const failed = await f.waitFor(
        "conversation.item.input_audio_transcription.failed",
      );
      assert.equal(failed.error.type, "server_error");
      assert.ok(!f.types().includes(COMPLETED));
      await f.close();
    } finally {
      await emu.close();
    }
  },
);

Deno.test(
  "§5.3 streaming gpt-realtime-whisper: deltas while speaking, finalize on client commit, no VAD events",
  T,
  async () => {
    const emu = await startTestEmulator({ streamingWordIntervalMs: 200 });
    const s = await transcriptionSocket(
      emu,
      model("gpt-realtime-whisper", { delay: "low" }, { turn_detection: null }),
    );
    try {
      emu.control.queueTranscripts(["one two three four five six"]);
      appendAudio(s, silence(300));
      appendAudio(s, tone(1200));
      await s.waitFor(DELTA);
      assert.ok(!s.types().includes("input_audio_buffer.committed"));
      appendAudio(s, silence(400));
      s.send({ type: "input_audio_buffer.commit" });
      const done = await s.waitFor(COMPLETED);
      assert.equal(done.transcript, "one two three four five six");
      const types = s.types();
      assert.ok(
        types.indexOf(DELTA) < types.indexOf("input_audio_buffer.committed"),
      );
      assert.equal(
        s.events.filter((e) => e.type === DELTA).map((e) => e.delta).join(""),
        done.transcript,
      );
      assert.ok(!types.includes("input_audio_buffer.speech_started"));
      // Server VAD is rejected for this model.
      s.send({
        type: "session.update",
        session: {
          type: "transcription",
          audio: { input: { turn_detection: { type: "server_vad" } } },
        },
      });
      const e = await s.waitFor("error");
      assert.equal(e.error.param, "session.audio.input.turn_detection");
      assert.equal(e.error.code, "invalid_value");
      assert.equal(
        e.error.message,
        "Turn detection is not supported for this transcription model.",
      );
    } finally {
      await s.close();
      await emu.close();
    }
  },
);

Deno.test(
  "§6.3 manual commit with turn_detection null; VAD on + manual commit mid-speech skips speech_stopped",
  T,
  async () => {
    const emu = await startTestEmulator();
    try {
      const s = await transcriptionSocket(
        emu,
        model("gpt-4o-transcribe", {}, { turn_detection: null }),
      );
      appendAudio(s, tone(500));
      s.send({ type: "input_audio_buffer.commit" });
      const c = await s.waitFor("input_audio_buffer.committed");
      await s.waitFor(COMPLETED);
      assert.ok(!s.types().includes("input_audio_buffer.speech_started"));
      assert.match(c.item_id, /^item_/);
      await s.close();

      const v = await transcriptionSocket(emu, model("gpt-4o-transcribe"));
      appendAudio(v, silence(200));
      appendAudio(v, tone(600));
      const started = await v.waitFor("input_audio_buffer.speech_started");
      v.send({ type: "input_audio_buffer.commit" });
      const committed = await v.waitFor("input_audio_buffer.committed");
      assert.equal(committed.item_id, started.item_id);
      appendAudio(v, silence(800));
      await v.waitFor(COMPLETED);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!v.types().includes("input_audio_buffer.speech_stopped"));
      assert.equal(
        v.types().filter((t) => t === "input_audio_buffer.committed").length,
        1,
      );
      await v.close();
    } finally {
      await emu.close();
    }
  },
);

Deno.test(
  "speech_stopped.audio_end_ms: silence_end (default) = speech_end + silence_duration_ms",
  T,
  async () => {
    const wav = await makeSpeechWav("Where does this sentence end?", {
      sampleRate: 24000,
      padStartSec: 1,
      padEndSec: 2,
    });
    const pcm = await wav24k(wav.path);
    const stoppedWith = async (
      options: { speechStoppedAudioEnd?: "speech_end" | "silence_end" },
      silenceMs: number,
    ) => {
      const emu = await startTestEmulator(options);
      const s = await transcriptionSocket(
        emu,
        model("whisper-1", {}, {
          turn_detection: { type: "server_vad", silence_duration_ms: silenceMs },
        }),
      );
      try {
        appendAudio(s, pcm);
        return await s.waitFor("input_audio_buffer.speech_stopped");
      } finally {
        await s.close();
        await emu.close();
      }
    };
    for (const silenceMs of [200, 500]) {
      const speechEnd = (await stoppedWith({ speechStoppedAudioEnd: "speech_end" }, silenceMs))
        .audio_end_ms;
      const silenceEnd = (await stoppedWith({}, silenceMs)).audio_end_ms;
      const explicit = (await stoppedWith({ speechStoppedAudioEnd: "silence_end" }, silenceMs))
        .audio_end_ms;
      // The measurement itself: where the speech really ends (issue #2: ±100 ms).
      assert.ok(
        Math.abs(speechEnd - wav.speechEndMs) <= 100,
        `speech end ${speechEnd} vs ${wav.speechEndMs}`,
      );
      assert.equal(silenceEnd, explicit);
      // The silence that ended the turn, in whole 10 ms frames.
      const extra = silenceEnd - speechEnd;
      assert.ok(extra >= silenceMs && extra < silenceMs + 10, `${silenceEnd} - ${speechEnd}`);
    }
  },
);

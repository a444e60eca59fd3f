/**
 * The emulator's transcription behaviour beyond the protocol cases (those run in the conformance
 * suite, emulator/conformance/): per-call transcript queues, placeholders, the out-of-order and
 * failed-transcription faults, synthesized logprobs and languages, and where
 * `speech_stopped.audio_end_ms` points under both `speechStoppedAudioEnd` settings.
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
      // The measurement itself: where the speech really ends (the emulator promises ±100 ms).
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

/**
 * The page's turn detector in a real Chromium: speech in noise (espeak-ng + sox, see
 * `testing/noisy_speech.ts`) as the fake microphone, a model whose turns the page commits. Captions
 * stream while the person speaks, the page commits once per utterance, and the final lines come in
 * spoken order; a continuous talker still gets a final line at least every ~15 s.
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { lecturePieces, makeNoisySpeechWav, type SpeechPiece } from "./noisy_speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";

/** The default model: OpenAI runs it without turn detection, the page commits its turns. */
const MODEL = "gpt-live-transcribe";

/** Records, in the page, when each commit left and when the microphone opened. */
function watchCommits() {
  const w = globalThis as unknown as { __commits: number[]; __micAt: number | null };
  w.__commits = [];
  w.__micAt = null;
  const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: unknown) {
    if (typeof data === "string" && data.includes('"input_audio_buffer.commit"')) {
      w.__commits.push(performance.now());
    }
    send.call(this, data);
  };
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const stream = await getUserMedia(c);
    w.__micAt ??= performance.now();
    return stream;
  };
}

/** Commit times, ms after the fake microphone started playing the file. */
async function commitTimes(page: Page): Promise<number[]> {
  return await page.evaluate(() => {
    const w = globalThis as unknown as { __commits: number[]; __micAt: number | null };
    return w.__commits.map((t) => t - (w.__micAt ?? 0));
  });
}

// The turn detector runs once the call is connected (up to about 2 s on a loaded machine), while
// the fake microphone plays from getUserMedia: the first utterance comes after that.
const UTTERANCES: SpeechPiece[] = [
  { text: "The first sentence is about the weather today.", gapBeforeSec: 3, gainDb: -6 },
  {
    text: "The second one, a little quieter, talks about lunch.",
    voice: "en-us+f3",
    gapBeforeSec: 1.6,
    gainDb: -10,
  },
  { text: "And the third asks who is next.", gapBeforeSec: 1.6, gainDb: -7 },
];

Deno.test(
  "speech in pink noise: captions stream while speaking and the page commits each utterance",
  BROWSER_TEST,
  async () => {
    const wav = await makeNoisySpeechWav(UTTERANCES, { kind: "pink", snrDb: 10 }, {
      tailSec: 2.5,
    });
    const t = await openPage({ wav: wav.path, initScript: watchCommits, path: "/?debug" });
    try {
      const { page, app } = t;
      const texts = ["The weather is fine today.", "Lunch is at noon.", "Who is next?"];
      app.emulator.control.queueTranscripts(texts);
      // No model chosen: the default is the page-committed one.
      assert.equal(await page.locator("#model").inputValue(), MODEL);
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 3,
        undefined,
        { timeout: 40_000 },
      );
      // The whole file has played (and a second more): no late, extra turn.
      const played = wav.durationMs - (await commitTimes(page)).at(-1)!;
      await page.waitForTimeout(Math.max(0, played) + 1000);
      assert.deepEqual(await finalTexts(page), texts);
      const commits = await commitTimes(page);
      assert.equal(commits.length, 3, `one commit per utterance: ${commits.map(Math.round)}`);
      // Each commit follows its utterance, before the next one starts.
      for (const [i, r] of wav.regions.entries()) {
        const next = wav.regions[i + 1]?.startMs ?? wav.durationMs + 1000;
        assert.ok(
          commits[i] > r.endMs && commits[i] < next,
          `commit ${i} at ${Math.round(commits[i])} ms, utterance ${r.startMs}–${r.endMs} ms`,
        );
      }
      // Streaming: text arrived while the person was still speaking.
      const logged = await page.locator("#log li b").allTextContents();
      const firstDelta = logged.indexOf("conversation.item.input_audio_transcription.delta");
      const firstCommit = logged.indexOf("input_audio_buffer.commit");
      assert.ok(firstDelta >= 0 && firstCommit > firstDelta, logged.join(", "));
      const [call] = app.emulator.control.calls();
      assert.equal(call.transcriptsCompleted, 3);
      // The session OpenAI got has no turn detection: every turn above was the page's.
      const session = call.session as { audio: { input: Record<string, unknown> } };
      assert.equal(session.audio.input.turn_detection, null);
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "a continuous talker gets a final line at least every ~15 s (maximum turn length)",
  BROWSER_TEST,
  async () => {
    // Seven sentences, 0.3 s apart: about 34 s with no pause long enough to end a turn.
    const wav = await makeNoisySpeechWav(lecturePieces(0.3).slice(0, 7), {
      kind: "pink",
      snrDb: 10,
    }, { tailSec: 2 });
    const t = await openPage({ wav: wav.path, initScript: watchCommits, path: "/?debug" });
    try {
      const { page, app } = t;
      const texts = ["Part one.", "Part two.", "Part three.", "Part four."];
      app.emulator.control.queueTranscripts(texts);
      assert.equal(await page.locator("#model").inputValue(), MODEL);
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const speechEnd = wav.regions.at(-1)!.endMs;
      await page.waitForFunction(
        (end) => {
          const w = globalThis as unknown as { __commits: number[]; __micAt: number | null };
          return (w.__commits.at(-1) ?? 0) - (w.__micAt ?? Infinity) > end;
        },
        speechEnd,
        { timeout: wav.durationMs + 30_000, polling: 250 },
      );
      const commits = await commitTimes(page);
      const speechStart = wav.regions[0].startMs;
      assert.ok(commits.length >= 3, `${commits.length} commits for ${speechEnd - speechStart} ms`);
      // No turn longer than the maximum (15 s) plus the search for a pause and the timing slack.
      let previous = speechStart;
      for (const c of commits) {
        assert.ok(c - previous <= 16_500, `a turn of ${Math.round(c - previous)} ms`);
        previous = c;
      }
      const cuts = await page.locator("#log li b", { hasText: "page.turn_max_length" }).count();
      assert.ok(cuts >= 2, `${cuts} maximum-length cuts`);
      await page.waitForFunction(
        (n) => document.querySelectorAll("#transcript .utterance.final").length >= n,
        commits.length,
        { timeout: 20_000 },
      );
      const finals = await finalTexts(page);
      assert.deepEqual(finals.slice(0, 3), texts.slice(0, 3));
      assert.equal(finals.length, commits.length);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

import assert from "node:assert/strict";
import { launchBrowser } from "../testing/browser.ts";
import { startTestApp, waitFor } from "../testing/server.ts";
import { BROWSER_TEST } from "../testing/page_kit.ts";
import { formatClock } from "../shared/formats.js";

const T = "conversation.item.input_audio_transcription.";

function utterance(
  item: string,
  prev: string | null,
  words: string[],
  startMs: number,
) {
  return [
    {
      type: "input_audio_buffer.speech_started",
      item_id: item,
      audio_start_ms: startMs,
    },
    {
      type: "input_audio_buffer.committed",
      item_id: item,
      previous_item_id: prev,
    },
    ...words.map((w, i) => ({
      type: T + "delta",
      item_id: item,
      delta: (i ? " " : "") + w,
    })),
    { type: T + "completed", item_id: item, transcript: words.join(" ") },
  ].map((e, i) => ({ ...e, event_id: `event_${item}_${i}` }));
}

Deno.test({
  name:
    "the share viewer shows stored captions, follows a live session over SSE, and renders text as text",
  ...BROWSER_TEST,
  fn: async () => {
    const t = await startTestApp();
    const b = await launchBrowser();
    try {
      const { id } = await t.store.createSession({
        source: "webrtc",
        model: "gpt-transcribe",
        settings: {},
      });
      await t.store.updateSession(id, {
        status: "live",
        startedAt: Date.now(),
        callId: "rtc_view_one",
      });
      for (
        const e of utterance(
          "item_1",
          null,
          ["Stored", "before", "opening."],
          0,
        )
      ) {
        await t.store.recordEvent(id, e);
      }
      const { page } = b;
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${t.baseUrl}/s/${id}`);
      const finals = () => page.locator("#transcript .utterance.final .text").allTextContents();
      await waitFor(async () => (await finals()).length === 1, {
        message: "stored line",
      });
      assert.deepEqual(await finals(), ["Stored before opening."]);
      assert.equal(await page.locator("#status").textContent(), "Live");

      // Live: a partial then its final, with markup that must stay text.
      const live = utterance(
        "item_2",
        "item_1",
        ["<img", "src=x", "onerror=alert(1)>", "tail"],
        3000,
      );
      for (const e of live.slice(0, 4)) await t.store.recordEvent(id, e);
      await waitFor(
        async () =>
          (await page.locator("#transcript .utterance.partial .text")
            .count()) === 1,
        {
          message: "partial line",
        },
      );
      for (const e of live.slice(4)) await t.store.recordEvent(id, e);
      await waitFor(async () => (await finals()).length === 2, {
        message: "live final",
      });
      assert.deepEqual(await finals(), [
        "Stored before opening.",
        "<img src=x onerror=alert(1)> tail",
      ]);
      assert.equal(await page.locator("#transcript img").count(), 0);

      // The session moves to a second call whose audio clock starts again at 0: the viewer adds
      // the call's offset (from the stream's `call` message) as the Store does.
      const [call1] = await t.store.listCalls(id);
      await new Promise((r) => setTimeout(r, Math.max(0, call1.attachedAt + 2100 - Date.now())));
      await t.store.updateSession(id, { callId: null, status: "pending" });
      await t.store.updateSession(id, { callId: "rtc_view_two", status: "live" });
      for (const e of utterance("item_3", null, ["On", "call", "two."], 0)) {
        await t.store.recordEvent(id, e, { callId: "rtc_view_two" });
      }
      await waitFor(async () => (await finals()).length === 3, { message: "call 2's line" });
      const stored = (await t.store.listUtterances(id)).find((u) => u.itemId === "item_3")!;
      assert.ok(stored.startMs! >= 2000, `${stored.startMs}`);
      const shown = await page.locator("[data-item-id='item_3'] .start").textContent();
      assert.equal(shown, formatClock(stored.startMs));

      await t.store.updateSession(id, {
        status: "ended",
        endedAt: Date.now(),
        endReason: "hangup",
      });
      await waitFor(
        async () => (await page.locator("#status").textContent()) === "Ended",
        {
          message: "ended status",
        },
      );
      const href = await page.locator("#dl-srt").getAttribute("href");
      assert.equal(
        href,
        `/api/sessions/${id}/transcript?format=srt&download=1`,
      );

      await page.goto(`${t.baseUrl}/s/${"Z".repeat(22)}`);
      await waitFor(async () => (await page.locator("#message").isVisible()), {
        message: "not found",
      });
      assert.match(
        (await page.locator("#message").textContent()) ?? "",
        /does not exist/,
      );
      assert.deepEqual(errors, []);
    } finally {
      await b.close();
      await t.close();
    }
  },
});

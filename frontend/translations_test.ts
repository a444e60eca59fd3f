/**
 * The page's translation calls without a browser: a stand-in call (not WebRTC), the manual
 * clock, and the real app on loopback receiving the posted deltas.
 */
import assert from "node:assert/strict";
import { createTranslations, HOLD_UNPLACED_MS } from "./translations.js";
import { ManualClock } from "../testing/live_session_kit.ts";
import { postJson, startTestApp } from "../testing/server.ts";

type Status = (s: string) => void;
type OnEvent = (e: Record<string, unknown>) => void;

function harness(baseUrl: string, failFirst: Set<string>) {
  const clock = new ManualClock();
  const states: string[] = [];
  const opened: Array<{ language: string; onEvent: OnEvent; onStatus: Status }> = [];
  const calls = createTranslations({
    clock,
    random: () => 0.5,
    fetch: (input, init) => fetch(new URL(String(input), baseUrl), init),
    place: (deltas) => deltas.map((d) => (d.atMs < 5000 ? "item_a" : null)),
    connect: (params) => {
      if (failFirst.delete(params.target.language)) {
        return Promise.reject(new Error("boom"));
      }
      opened.push({
        language: params.target.language,
        onEvent: params.onEvent,
        onStatus: params.onStatus ?? (() => {}),
      });
      return Promise.resolve({
        language: params.target.language,
        path: "direct" as const,
        speech: new Promise<MediaStream>(() => {}),
        pc: {} as RTCPeerConnection,
        stop: () => Promise.resolve(),
      });
    },
    view: {
      languages: () => {},
      state: (language, state) => void states.push(`${language}:${state}`),
      speech: () => {},
      changed: () => {},
    },
  });
  return { clock, states, opened, calls };
}

const target = (language: string, name: string) => ({
  language,
  name,
  ephemeralKey: null,
  url: null,
  relayUrl: `/api/calls/translation?lang=${language}`,
  expiresAt: null,
});

Deno.test("translation calls: deltas posted in batches with their line, once; a failed call retries, then waits for Retry", async () => {
  const app = await startTestApp({ env: { MAX_CONCURRENT_SESSIONS_PER_IP: "10" } });
  try {
    const minted = await postJson(app.baseUrl, "/api/session", { translations: ["es", "de"] });
    const session = {
      ...minted.json,
      translations: [target("es", "Spanish"), target("de", "German")],
    };
    const h = harness(app.baseUrl, new Set(["de"]));
    h.calls.start({ session, stream: {} as MediaStream });
    await h.clock.advance(0);
    h.calls.baseAt(h.clock.now());
    const es = h.opened.find((c) => c.language === "es")!;
    es.onEvent({ type: "session.created" });
    es.onEvent({
      type: "session.output_transcript.delta",
      event_id: "event_1",
      delta: "Hola",
      elapsed_ms: 1200,
    });
    es.onEvent({
      type: "session.output_transcript.delta",
      event_id: "event_1",
      delta: "Hola",
      elapsed_ms: 1200,
    });
    es.onEvent({
      type: "session.output_transcript.delta",
      event_id: "event_2",
      delta: " más",
      elapsed_ms: 7000,
    });
    es.onEvent({
      type: "session.output_transcript.delta",
      event_id: "event_3",
      delta: 5,
      elapsed_ms: 1,
    });
    assert.deepEqual(h.calls.deltas().map((d) => d.eventId), ["event_1", "event_2"]);
    // The placed delta goes at the next round; the unplaced one waits for its line.
    await h.clock.advance(1000);
    await h.calls.flush();
    let rows = await app.store.listTranslationDeltas(minted.json.sessionId);
    assert.deepEqual(rows.map((r) => [r.eventId, r.itemId]), [["event_1", "item_a"]]);
    await h.clock.advance(HOLD_UNPLACED_MS);
    await h.calls.flush();
    rows = await app.store.listTranslationDeltas(minted.json.sessionId);
    assert.deepEqual(rows.map((r) => [r.eventId, r.itemId]), [["event_1", "item_a"], [
      "event_2",
      null,
    ]]);

    // German failed to open: it reconnects (twice at most) on its own.
    assert.ok(h.states.includes("de:reconnecting"));
    await h.clock.advance(5000);
    const de = h.opened.find((c) => c.language === "de")!;
    assert.ok(de, "German reconnected");
    assert.ok(h.states.includes("de:live"));
    // It drops for good: after its automatic reconnects it waits for Retry; Spanish stays.
    de.onStatus("ended");
    await h.clock.advance(5000);
    h.opened.filter((c) => c.language === "de").at(-1)!.onStatus("ended");
    await h.clock.advance(5000);
    assert.equal(h.states.at(-1), "de:stopped");
    assert.deepEqual(h.calls.liveLanguages(), ["es"]);
    h.calls.retry("de");
    await h.clock.advance(0);
    assert.equal(h.states.at(-1), "de:live");
    await h.calls.stop();
    assert.deepEqual(h.calls.liveLanguages(), []);
  } finally {
    await app.close();
  }
});

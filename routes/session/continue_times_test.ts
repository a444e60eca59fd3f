/**
 * Session-relative times across a call hand-over, through the real parts: the app on loopback, the
 * emulator, two WebRTC calls of one stored session, and microphones that send audio in real time
 * (so each call's audio clock starts at 0 when its audio starts, as with a browser).
 */
import assert from "node:assert/strict";
import SrtParser from "npm:srt-parser-2@1.2.3";
import { createRawCall, makeOffer } from "../../emulator/testkit.ts";
import { createTestPeer, postJson, waitFor } from "../../testing/server.ts";
import { openPacedSpeaker, startResilientApp } from "../../testing/resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

/** Within this of the truth: the offset estimate's error here is mostly test scheduling. */
const TOLERANCE_MS = 300;

Deno.test({
  ...T,
  name:
    "after a hand-over, call 2's stored times continue call 1's clock and exports stay in order",
  fn: async () => {
    const app = await startResilientApp();
    const peer = await createTestPeer();
    let offer2: Awaited<ReturnType<typeof makeOffer>> | null = null;
    const mics: { close(): Promise<void> }[] = [];
    try {
      const base = app.baseUrl;
      const { sessionId, ticket } = (await postJson(base, "/api/session", {})).json;
      const relay = await postJson(base, "/api/calls", { ticket, sdp: peer.offer });
      assert.equal(relay.status, 201);
      const call1: string = relay.json.callId;
      await peer.answer(relay.json.sdp);
      const mic1 = await openPacedSpeaker(app.emulator, call1);
      mics.push(mic1);
      await waitFor(async () => (await app.store.getSession(sessionId))?.status === "live");
      // Speak well after audio time 0 so the VAD's prefix padding is not cut at the start.
      await waitFor(() => mic1.audioMs() >= 1000);
      const said1 = await mic1.say("on the first call");

      // The page continues the session on a new call, some time later.
      await new Promise((r) => setTimeout(r, 1500));
      const cont = await postJson(base, `/api/session/${sessionId}/continue`, { ticket });
      assert.equal(cont.status, 200, JSON.stringify(cont.json));
      offer2 = await makeOffer();
      const created = await createRawCall(app.emulator, offer2.sdp, cont.json.ephemeralKey);
      const call2 = created.callId!;
      const attach = await postJson(base, `/api/calls/${call2}/sideband`, { ticket });
      assert.equal(attach.status, 202, JSON.stringify(attach.json));
      const mic2 = await openPacedSpeaker(app.emulator, call2);
      mics.push(mic2);
      await waitFor(async () => (await app.store.getSession(sessionId))?.status === "live");
      await mic1.close();
      await waitFor(() => mic2.audioMs() >= 1000);
      const said2 = await mic2.say("on the second call");

      const rows = await waitFor(async () => {
        const list = await app.store.listUtterances(sessionId);
        return list.filter((u) => u.status === "final").length === 2 ? list : null;
      }, { message: "both utterances stored" });
      assert.deepEqual(rows.map((u) => u.itemId), [said1.itemId, said2.itemId]);
      const [u1, u2] = rows;
      // Call 1's times are its own audio clock's; call 2's restarted at 0 and were moved.
      assert.ok(Math.abs(u1.startMs! - (said1.startAudioMs - 300)) <= 50, `${u1.startMs}`);
      assert.ok(
        u2.startMs! > u1.endMs!,
        `call 2 starts ${u2.startMs} before call 1 ends ${u1.endMs}`,
      );
      const realGap = said2.startWall - said1.startWall;
      const storedGap = u2.startMs! - u1.startMs!;
      assert.ok(
        Math.abs(storedGap - realGap) <= TOLERANCE_MS,
        `stored ${storedGap} ms between the turns, really ${realGap} ms`,
      );

      // The API shows the calls and their offsets; the raw events keep call 2's own clock.
      const detail = await (await fetch(`${base}/api/sessions/${sessionId}`)).json();
      assert.deepEqual(detail.calls.map((c: { callId: string }) => c.callId), [call1, call2]);
      assert.equal(detail.calls[0].offsetMs, 0);
      const offset = detail.calls[1].offsetMs;
      assert.ok(Math.abs(offset - (mic2.startedAt - mic1.startedAt)) <= TOLERANCE_MS, `${offset}`);
      const started2 = (await app.store.listEvents(sessionId)).find((r) =>
        r.type === "input_audio_buffer.speech_started" && r.event.item_id === said2.itemId
      );
      assert.equal(started2?.callId, call2);
      assert.equal(started2?.event.audio_start_ms, u2.startMs! - offset);

      // Exports: cue times never go back, and the SRT has call 2's line at its session time.
      const srt = await (await fetch(`${base}/api/sessions/${sessionId}/transcript?format=srt`))
        .text();
      const cues = new SrtParser().fromSrt(srt);
      assert.deepEqual(cues.map((c) => c.text), ["on the first call", "on the second call"]);
      const starts = cues.map((c) => c.startSeconds);
      assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
      assert.ok(Math.abs(starts[1] * 1000 - u2.startMs!) <= 1, srt);
      assert.ok(cues[1].startSeconds >= cues[0].endSeconds, srt);
      const json = await (await fetch(`${base}/api/sessions/${sessionId}/transcript?format=json`))
        .json();
      const jsonStarts = json.utterances.map((u: { startMs: number }) => u.startMs);
      assert.deepEqual(jsonStarts, [u1.startMs, u2.startMs]);
      const vtt = await (await fetch(`${base}/api/sessions/${sessionId}/transcript?format=vtt`))
        .text();
      const vttStarts = [...vtt.matchAll(/^(\d\d):(\d\d):(\d\d)\.(\d{3}) -->/gm)]
        .map(([, h, m, s, ms]) => ((+h * 60 + +m) * 60 + +s) * 1000 + +ms);
      assert.deepEqual(vttStarts, [Math.round(u1.startMs!), Math.round(u2.startMs!)]);
    } finally {
      for (const m of mics) await m.close().catch(() => {});
      await offer2?.close();
      await peer.close();
      await app.close();
    }
  },
});

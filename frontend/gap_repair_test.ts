import assert from "node:assert/strict";
import { GapRepair } from "./gap_repair.js";
import { mintSession } from "./preminter.js";
import { Timeline } from "./timeline.js";
import { startTestApp } from "../testing/server.ts";
import { transcriptEvents } from "../testing/live_session_kit.ts";

Deno.test("GapRepair posts new final lines once, and again after a refused post", async () => {
  const t = await startTestApp();
  try {
    const posts: number[] = [];
    const local: typeof fetch = async (input, init) => {
      const res = await fetch(new URL(String(input), t.baseUrl), init);
      if (init?.method === "POST" && String(input).endsWith("/utterances")) posts.push(res.status);
      return res;
    };
    const session = await mintSession({ fetch: local });
    const timeline = new Timeline();
    let ticket = "not-a-ticket";
    const repair = new GapRepair({
      timeline,
      calls: { settled: () => Promise.resolve() },
      session: () => ({ sessionId: session.sessionId, ticket }),
      fetch: local,
    });
    await repair.run();
    assert.deepEqual(posts, [], "nothing final yet");
    for (const e of transcriptEvents("item_1", "One", { startMs: 0, endMs: 10, final: true })) {
      timeline.transcript.apply(e);
    }
    await repair.run();
    assert.deepEqual(posts, [401], "a bad ticket is refused");
    ticket = session.ticket;
    await repair.run();
    await repair.run();
    assert.deepEqual(posts, [401, 200], "taken once; the same lines are not posted again");
    for (const e of transcriptEvents("item_2", "Two", { startMs: 20, endMs: 30, final: true })) {
      timeline.transcript.apply(e);
    }
    await repair.run();
    assert.deepEqual(posts, [401, 200, 200]);
    const rows = await t.store.listUtterances(session.sessionId);
    assert.deepEqual(rows.map((r) => [r.text, r.seenBy]), [["One", "browser"], ["Two", "browser"]]);
  } finally {
    await t.close();
  }
});

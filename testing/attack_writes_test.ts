/**
 * Attack: growing the database through the page's write routes with one free ticket (Val Town's
 * SQLite holds 10 MB on the free plan). Gap repair stores at most `SESSION_MAX_STORED_KB` per
 * session and `CLIENT_MAX_STORED_KB_PER_DAY` per client, and every write route counts against
 * `WRITES_PER_MINUTE_PER_IP`: measured on a real SQLite file.
 */
import assert from "node:assert/strict";
import { postJson, startTestApp, type TestApp } from "./server.ts";
import { insideOneWindow } from "./clock.ts";
import { createClient } from "npm:@libsql/client@0.17.3";

/** A gap-repair body just under the 64 KiB JSON limit, with fresh item ids. */
function bigBody(ticket: string, round: number) {
  return {
    ticket,
    utterances: Array.from({ length: 55 }, (_, i) => ({
      itemId: `item_r${round}_${i}`,
      previousItemId: null,
      status: "final",
      text: "x".repeat(1000),
      startMs: null,
      endMs: null,
      confidence: null,
    })),
  };
}

/** The database file's size once the write-ahead log is folded in (the WAL file is reused). */
async function dbBytes(dir: string): Promise<number> {
  const client = createClient({ url: `file:${dir}/app.db` });
  try {
    await client.execute("PRAGMA busy_timeout = 5000");
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    client.close();
  }
  return (await Deno.stat(`${dir}/app.db`)).size;
}

async function flood(t: TestApp, session: { sessionId: string; ticket: string }, rounds: number) {
  const statuses: Record<string, number> = {};
  let retryAfter: string | null = null;
  for (let r = 0; r < rounds; r++) {
    const res = await postJson(
      t.baseUrl,
      `/api/sessions/${session.sessionId}/utterances`,
      bigBody(session.ticket, r),
    );
    const key = res.status === 200 ? "200" : `${res.status} ${res.json.error.code}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (res.status === 429) retryAfter ??= res.headers.get("retry-after");
  }
  return { statuses, retryAfter };
}

Deno.test("attack: one ticket cannot grow the database past the session's storage cap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "attack_writes_" });
  const t = await startTestApp({ databaseUrl: `file:${dir}/app.db` });
  try {
    await insideOneWindow(60_000, 20_000);
    const session = (await postJson(t.baseUrl, "/api/session", {})).json;
    const before = await dbBytes(dir);
    const { statuses } = await flood(t, session, 80);
    const grown = await dbBytes(dir) - before;
    console.log(`gap-repair flood: ${JSON.stringify(statuses)}; database grew ${grown} bytes`);
    assert.ok((statuses["413 session_storage_full"] ?? 0) > 0, JSON.stringify(statuses));
    // 80 × ~56 KB of new lines were sent (4.5 MB); the cap is 512 KiB of rows, with SQLite's
    // pages on top (a 2 KB row takes most of a 4 KiB page).
    assert.ok(grown < 1.5 * 1024 * 1024, `database grew by ${grown} bytes`);
    const stored = (await t.store.listUtterances(session.sessionId)).length;
    assert.ok(stored <= 512, `${stored} lines stored`);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attack: many sessions of one client stop at the client's daily write budget and rate", async () => {
  const t = await startTestApp({
    env: {
      SESSION_MAX_STORED_KB: "200",
      CLIENT_MAX_STORED_KB_PER_DAY: "300",
      WRITES_PER_MINUTE_PER_IP: "20",
    },
  });
  try {
    await insideOneWindow(60_000, 20_000);
    const a = (await postJson(t.baseUrl, "/api/session", {})).json;
    const b = (await postJson(t.baseUrl, "/api/session", {})).json;
    const first = await flood(t, a, 6);
    const second = await flood(t, b, 6);
    assert.ok((second.statuses["429 write_budget_exhausted"] ?? 0) > 0, JSON.stringify(second));
    const third = await flood(t, b, 10);
    assert.ok((third.statuses["429 write_rate_limited"] ?? 0) > 0, JSON.stringify(third));
    assert.ok(Number(third.retryAfter) > 0);
    assert.ok(first.statuses["413 session_storage_full"] > 0, JSON.stringify(first));
  } finally {
    await t.close();
  }
});

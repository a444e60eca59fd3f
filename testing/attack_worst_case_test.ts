/**
 * The worst case one stranger can cost, with the default settings, MEASURED: one client (one
 * address) drives the app and the emulator as fast as it can for one whole minute window of the
 * mint limits, in each signalling mode, and the counts are checked against the table in
 * docs/security.md ("Worst case per stranger"). Direct mode: every admitted key also posts SDP
 * offers to the Realtime API itself, as fast as it can, until the key expires — calls the server
 * never hears of. Relay mode: every call goes through `POST /api/calls`.
 *
 * Slow on purpose (it waits for a minute window to begin, then runs through it).
 */
import assert from "node:assert/strict";
import { createTestPeer, postJson, startTestApp, type TestApp } from "./server.ts";
import { SIGNALING_MODES } from "../lib/config.ts";

/** The documented table (docs/security.md), per stranger and minute, default settings. */
export const WORST_CASE_TABLE = {
  direct: { sessionsPerMinute: 10 },
  relay: { sessionsPerMinute: 10, concurrentCalls: 3 },
} as const;

const WORST_CASE = { sanitizeOps: false, sanitizeResources: false };

/** Waits for the start of the next minute window of the fixed-window counters. */
async function nextMinute(): Promise<number> {
  const left = 60_000 - (Date.now() % 60_000);
  await new Promise((r) => setTimeout(r, left + 20));
  return Date.now();
}

/** Posts one SDP offer with an ephemeral key straight to the (emulated) Realtime API. */
async function directCall(t: TestApp, key: string, offer: string): Promise<boolean> {
  const res = await fetch(`${t.emulator.baseUrl}/v1/realtime/calls`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/sdp" },
    body: offer,
  });
  await res.body?.cancel();
  return res.status === 201;
}

for (const signaling of SIGNALING_MODES) {
  Deno.test(
    `worst case: what one stranger starts in one minute (${signaling})`,
    WORST_CASE,
    async () => {
      const t = await startTestApp({ env: { SIGNALING: signaling } });
      const peer = await createTestPeer();
      try {
        const start = await nextMinute();
        const end = start - (start % 60_000) + 59_500;
        let sessions = 0;
        let calls = 0;
        let maxConcurrent = 0;
        const keyRuns: Promise<void>[] = [];
        /** The stranger's own sessions with a call, oldest first (relay), and keys' expiries. */
        const running: Array<{ callId: string; ticket: string }> = [];
        const expiries: number[] = [];
        while (Date.now() < end) {
          const minted = await postJson(t.baseUrl, "/api/session", {});
          if (minted.status === 429 && minted.json.error.code === "rate_limited") break;
          if (minted.status === 429) {
            // At the concurrency cap. The best a stranger can do: relaying, hang up the oldest
            // call; directly, wait until the oldest key's session stops holding its slot.
            const oldest = running.shift();
            if (oldest) {
              await postJson(t.baseUrl, `/api/calls/${oldest.callId}/hangup`, {
                ticket: oldest.ticket,
              });
            } else {
              const wait = Math.max(100, (expiries.shift() ?? 0) * 1000 + 1000 - Date.now());
              await new Promise((r) => setTimeout(r, Math.min(wait, 11_000)));
            }
            continue;
          }
          assert.equal(minted.status, 200, JSON.stringify(minted.json));
          sessions++;
          expiries.push(minted.json.expiresAt);
          if (signaling === "direct") {
            const key: string = minted.json.ephemeralKey;
            // The key starts calls until it expires; the server never hears of them.
            keyRuns.push((async () => {
              while (Date.now() < Math.min(end, minted.json.expiresAt * 1000 + 1000)) {
                if (await directCall(t, key, peer.offer)) calls++;
                else if (Date.now() >= minted.json.expiresAt * 1000) break;
              }
            })());
          } else {
            const relayed = await postJson(t.baseUrl, "/api/calls", {
              ticket: minted.json.ticket,
              sdp: peer.offer,
            });
            if (relayed.status === 201) {
              calls++;
              running.push({ callId: relayed.json.callId, ticket: minted.json.ticket });
            }
            const live = (await t.store.listSessions({ limit: 1000 })).sessions
              .filter((s) => s.callId !== null && (s.status === "live" || s.status === "pending"));
            maxConcurrent = Math.max(maxConcurrent, live.length);
          }
        }
        await Promise.all(keyRuns);
        console.log(
          `${signaling}: in one minute one stranger got ${sessions} sessions and started ${calls} calls` +
            (signaling === "direct"
              ? ` (${
                (calls / Math.max(1, sessions)).toFixed(1)
              } calls per key, none seen by the server)`
              : ` (at most ${maxConcurrent} at once)`),
        );
        const table = WORST_CASE_TABLE[signaling];
        assert.ok(sessions <= table.sessionsPerMinute, `${sessions} sessions`);
        if (signaling === "relay") {
          assert.ok(calls <= sessions, "every call is one of the server's sessions");
          assert.ok(maxConcurrent <= WORST_CASE_TABLE.relay.concurrentCalls, `${maxConcurrent}`);
        } else {
          // The exposure docs/security.md states: a key starts more than one call.
          assert.ok(calls >= sessions, `${calls} calls from ${sessions} keys`);
        }
      } finally {
        await peer.close();
        await t.close();
      }
    },
  );
}

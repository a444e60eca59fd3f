/**
 * Helpers for the store's tests: canonical event sequences and stores on temp files.
 *
 * @module
 */
import { loadConfig } from "../../config.ts";
import { openStore } from "../mod.ts";
import type { MintTallyInput, Store } from "../types.ts";

const T = "conversation.item.input_audio_transcription.";

/** The canonical server event sequence for one utterance (ids derived from `item`). */
export function utteranceEvents(
  item: string,
  prev: string | null,
  words: string[],
  startMs = 0,
) {
  const ev = (type: string, n: string, extra: Record<string, unknown>) => ({
    type,
    event_id: `event_${item}_${n}`,
    ...extra,
  });
  return [
    ev("input_audio_buffer.speech_started", "ss", {
      item_id: item,
      audio_start_ms: startMs,
    }),
    ev("input_audio_buffer.speech_stopped", "st", {
      item_id: item,
      audio_end_ms: startMs + 900,
    }),
    ev("input_audio_buffer.committed", "c", {
      item_id: item,
      previous_item_id: prev,
    }),
    ...words.map((w, i) =>
      ev(T + "delta", `d${i}`, {
        item_id: item,
        content_index: 0,
        delta: (i ? " " : "") + w,
      })
    ),
    ev(T + "completed", "done", {
      item_id: item,
      content_index: 0,
      transcript: words.join(" ") + ".",
      logprobs: [{ token: "a", logprob: 0, bytes: [] }],
    }),
  ];
}

/** A `file:` URL in a new temp dir (remove `dir` afterwards). */
export async function tempDbUrl(): Promise<{ url: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "store_test_" });
  return { url: `file:${dir}/nested/app.db`, dir };
}

/** Opens a migrated store on `url`. */
export async function open(url: string, cap?: number): Promise<Store> {
  const config = await loadConfig({}, { platform: "local" });
  return await openStore(config, { url, eventLogCap: cap });
}

/** Creates a plain webrtc session (model `m`, no settings) and returns its id. */
export async function newSession(store: Store): Promise<string> {
  return (await store.createSession({ source: "webrtc", model: "m", settings: {} })).id;
}

/** A fixed mint tally request for one client ("k") at a fixed minute, for concurrency tests. */
export function mintTallyInput(mineLimit: number): MintTallyInput {
  const now = Date.UTC(2026, 10, 25, 12, 0, 30);
  return {
    now,
    mintWindowMs: 60_000,
    mints: { mine: "mints:k", all: "mints:*", mineLimit },
    usageWindowMs: 86_400_000,
    usage: { mine: "usage-seconds:k", all: "usage-seconds:*" },
    active: { clientKey: "k", since: now - 900_000, pendingSince: now - 120_000 },
  };
}

/**
 * Start-together barrier for the multi-process tests. A child calls {@linkcode waitForGo} after
 * opening its store; the test calls {@linkcode releaseWhenReady} with how many children it spawned.
 */
export async function waitForGo(barrier: string): Promise<void> {
  await Deno.writeTextFile(`${barrier}/ready-${Deno.pid}`, "");
  for (;;) {
    try {
      await Deno.stat(`${barrier}/go`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** Waits until `children` processes are ready at `barrier`, then lets them all go. */
export async function releaseWhenReady(barrier: string, children: number): Promise<void> {
  while ([...Deno.readDirSync(barrier)].length < children) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await Deno.writeTextFile(`${barrier}/go`, "");
}

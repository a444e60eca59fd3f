/**
 * Helpers for the `/api/sessions` route tests: an app on a temp SQLite file plus a second store
 * on the same file (a writer in "another process"), seeded sessions, JSON and SSE readers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./server.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/mod.ts";
import type { Store } from "../lib/store/types.ts";
import { clientKey } from "../lib/security/client_ip.ts";
import { CLIENT_COOKIE, ownerKeyOf } from "../lib/security/client_id.ts";

const T = "conversation.item.input_audio_transcription.";
/** The signing secret `startTestApp` configures. */
export const SECRET = "test-signing-secret-0123456789";

/**
 * The client pseudonym of requests from this machine (127.0.0.1) under {@linkcode SECRET}: sessions
 * seeded with it count as "mine" to a public val's list and delete routes.
 */
export const LOCAL_CLIENT_KEY = await clientKey(SECRET, "127.0.0.1");

/** The client id in the cookie of "this browser" (what {@linkcode getJson} sends by default). */
export const LOCAL_CLIENT_ID = "thisbrowser00000000000";

/** `Cookie` value carrying {@linkcode LOCAL_CLIENT_ID}. */
export const OWN_COOKIE = `${CLIENT_COOKIE}=${LOCAL_CLIENT_ID}`;

/**
 * The owner key of {@linkcode LOCAL_CLIENT_ID} under {@linkcode SECRET}: sessions bound to it are
 * "mine" to a public val's list and delete routes.
 */
export const LOCAL_OWNER_KEY = await ownerKeyOf(SECRET, LOCAL_CLIENT_ID);

/** One utterance's server events, with ids derived from `item`. */
export function events(
  item: string,
  prev: string | null,
  text: string,
  startMs: number,
) {
  const words = text.split(" ");
  return [
    {
      type: "input_audio_buffer.speech_started",
      item_id: item,
      audio_start_ms: startMs,
    },
    {
      type: "input_audio_buffer.speech_stopped",
      item_id: item,
      audio_end_ms: startMs + 1500,
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
    { type: T + "completed", item_id: item, transcript: text },
  ].map((e, i) => ({ ...e, event_id: `event_${item}_${i}` }));
}

/**
 * A session with two utterances (ended unless asked), written by a second store on the same file;
 * `first` is recorded before them (e.g. a `session.updated`).
 */
export async function seed(
  writer: Store,
  status: "ended" | "live" = "ended",
  first?: Record<string, unknown>,
) {
  const s = await writer.createSession({
    source: "webrtc",
    model: "gpt-transcribe",
    settings: {},
    clientKey: LOCAL_CLIENT_KEY,
  });
  await writer.setSessionOwner(s.id, LOCAL_OWNER_KEY);
  await writer.updateSession(s.id, { status: "live", startedAt: Date.now() });
  const all = [
    ...(first ? [first] : []),
    ...events("item_a", null, "Hello world.", 0),
    ...events("item_b", "item_a", "Second line.", 2000),
  ];
  for (const e of all) await writer.recordEvent(s.id, e);
  if (status === "ended") {
    await writer.updateSession(s.id, { status: "ended", endedAt: Date.now() });
  }
  return { id: s.id, count: all.length };
}

/**
 * Runs `fn` with an app on a temp SQLite file and a second store (another "process") on it; `env`
 * adds environment variables (e.g. `ACCESS_CODE`).
 */
export async function withApp(
  fn: (t: TestApp, writer: Store) => Promise<void>,
  env: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "sessions_routes_" });
  const url = `file:${dir}/app.db`;
  const t = await startTestApp({ databaseUrl: url, env });
  const writer = await openStore(await loadConfig({}, { platform: "local" }), {
    url,
  });
  try {
    await fn(t, writer);
  } finally {
    await writer.close();
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Fetches and parses a JSON (or text) answer, as "this browser": with {@linkcode OWN_COOKIE}
 * unless `init.headers` names a `Cookie` of its own.
 */
export async function getJson(base: string, path: string, init?: RequestInit) {
  const headers = new Headers(init?.headers);
  if (!headers.has("cookie")) headers.set("cookie", OWN_COOKIE);
  const res = await fetch(base + path, { ...init, headers });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text,
    json: safe(text),
  };
}

function safe(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Asserts an `{error:{code,message}}` answer with this status (and code). */
export function assertError(
  r: { status: number; json: unknown },
  status: number,
  code?: string,
) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const body = r.json as { error?: { code?: string; message?: string } };
  assert.equal(typeof body?.error?.message, "string");
  if (code) assert.equal(body.error?.code, code);
}

/** Reads SSE messages from a fetch response until `stop` says so or the stream ends. */
export async function readSse(
  res: Response,
  stop: (msgs: { id?: string; event?: string; data: string }[]) => boolean,
) {
  const msgs: { id?: string; event?: string; data: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let ended = false;
  while (!stop(msgs)) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    buf += value;
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const msg: { id?: string; event?: string; data: string } = { data: "" };
      let hasData = false;
      for (const line of block.split("\n")) {
        const [field, ...rest] = line.split(":");
        const value = rest.join(":").replace(/^ /, "");
        if (field === "id") msg.id = value;
        else if (field === "event") msg.event = value;
        else if (field === "data") {
          msg.data += (hasData ? "\n" : "") + value;
          hasData = true;
        }
      }
      if (hasData) msgs.push(msg);
    }
  }
  if (!ended) await reader.cancel();
  return { msgs, ended };
}

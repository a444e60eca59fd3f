/**
 * Helpers for the resilience tests (drops, retries, hand-overs): speak into a live call from the test (a second
 * `?call_id=` connection appending PCM, so the page's fake microphone can stay silent and every
 * utterance is exactly timed), find the live call, and flip the emulator's fault switches over
 * its HTTP control API.
 *
 * @module
 */
import type { Page } from "npm:playwright-core@1.65.1";
import { createApp } from "../app.ts";
import type { AppDeps, Logger } from "../lib/deps.ts";
import { assembleDeps } from "../lib/setup.ts";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../emulator/mod.ts";
import { appendAudio, type Ev, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { loadConfig } from "../lib/config.ts";
import { createFileReader } from "../lib/files.ts";
import { SidebandRegistry } from "../lib/sideband_registry.ts";
import type { ReconnectInfo } from "../lib/reconnecting_socket.ts";
import { openStore } from "../lib/store/mod.ts";
import type { Store } from "../lib/store/types.ts";
import type { LaunchedBrowser } from "./browser.ts";
import { loadPage } from "./page_kit.ts";
import { type LogLine, waitFor } from "./server.ts";
import { makeSilenceWav } from "./speech.ts";

/** The final-transcript event type. */
export const COMPLETED = "conversation.item.input_audio_transcription.completed";
/** The failed-transcription event type. */
export const FAILED = "conversation.item.input_audio_transcription.failed";

/** One call as `GET /_emulator/calls` lists it. */
export interface EmulatorCall {
  id: string;
  kind: string;
  state: string;
  sidebands: string[];
}

/** The emulator's calls, newest last. */
export function calls(emulator: RunningEmulator): EmulatorCall[] {
  return emulator.control.calls() as unknown as EmulatorCall[];
}

/** Waits for an active WebRTC call other than `except` and returns its id. */
export function waitForActiveCall(
  emulator: RunningEmulator,
  except: string[] = [],
  timeoutMs = 30_000,
): Promise<string> {
  return waitFor(
    () =>
      calls(emulator).filter((c) =>
        c.kind === "webrtc" && c.state === "active" && !except.includes(c.id)
      ).at(-1)?.id,
    { timeoutMs, message: "an active WebRTC call" },
  );
}

/** A long-lived second connection to a call that speaks on demand and survives drops of others. */
export interface Speaker {
  /** The emulator's id of this connection (a sideband sink). */
  sinkId: string;
  /** Speaks one utterance per text (back to back) and resolves once their transcriptions ended. */
  say(text: string | string[], options?: { queue?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Opens a {@linkcode Speaker} on `callId`. */
export async function openSpeaker(
  emulator: RunningEmulator,
  callId: string,
): Promise<Speaker> {
  const ids = () => calls(emulator).find((c) => c.id === callId)?.sidebands ?? [];
  const before = ids();
  const socket = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
    headers: { Authorization: `Bearer ${emulator.apiKey}` },
  });
  await socket.opened;
  const sinkId = await waitFor(() => ids().find((id) => !before.includes(id)));
  return {
    sinkId,
    async say(text, sayOptions = {}) {
      const texts = Array.isArray(text) ? text : [text];
      // A turn that is going to fail consumes no queued text: queue nothing for it.
      if (sayOptions.queue !== false) emulator.control.queueTranscripts(texts, callId);
      const n = socket.events.length;
      for (let i = 0; i < texts.length; i++) {
        appendAudio(socket, tone(500));
        appendAudio(socket, silence(700));
      }
      const fresh = () => socket.events.slice(n);
      const items = await waitFor(() => {
        const ids = fresh().filter((e) => e.type === "input_audio_buffer.committed")
          .map((e) => e.item_id as string);
        return ids.length >= texts.length ? ids : null;
      }, { message: "turns committed" });
      await waitFor(
        () =>
          items.every((id) =>
            fresh().some((e) => (e.type === COMPLETED || e.type === FAILED) && e.item_id === id)
          ),
        { timeoutMs: 10_000, message: "transcriptions ended" },
      );
    },
    close: () => socket.close(),
  };
}

/** Where one spoken tone sits, in wall-clock Unix ms and on its call's audio clock. */
export interface SpokenTurn {
  itemId: string;
  /** Wall-clock Unix ms at which the tone began and ended. */
  startWall: number;
  endWall: number;
  /** The same instants on the call's audio clock (ms since the microphone's first sample). */
  startAudioMs: number;
  endAudioMs: number;
}

/**
 * A {@linkcode Speaker} that behaves like a browser microphone: from the moment it opens it sends
 * audio in real time (silence between turns), so the call's audio clock follows the wall clock
 * from `startedAt` on, as a real call's does from its first packet.
 */
export interface PacedSpeaker {
  /** Wall-clock Unix ms of the first sample: audio time 0 of the call. */
  startedAt: number;
  /** Ms of audio sent so far. */
  audioMs(): number;
  /** Speaks `text` as a `toneMs` tone in the stream, then waits for its transcription to end. */
  say(text: string, options?: { toneMs?: number }): Promise<SpokenTurn>;
  close(): Promise<void>;
}

/** Opens a {@linkcode PacedSpeaker} on `callId` (a second connection that appends audio). */
export async function openPacedSpeaker(
  emulator: RunningEmulator,
  callId: string,
): Promise<PacedSpeaker> {
  const socket = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
    headers: { Authorization: `Bearer ${emulator.apiKey}` },
  });
  await socket.opened;
  const startedAt = Date.now();
  let sent = 0; // samples at 24 kHz
  let queued: Int16Array[] = [];
  const pump = () => {
    // Send whatever the wall clock says is due, so late timers cannot slow the audio clock.
    let due = Math.round((Date.now() - startedAt) * 24) - sent;
    while (due > 0) {
      const head = queued[0];
      const n = Math.min(due, head ? head.length : due);
      const chunk = head ? head.subarray(0, n) : new Int16Array(n);
      if (head) {
        queued = n === head.length ? queued.slice(1) : [head.subarray(n), ...queued.slice(1)];
      }
      appendAudio(socket, chunk);
      sent += n;
      due -= n;
    }
  };
  pump();
  const timer = setInterval(pump, 20);
  return {
    startedAt,
    audioMs: () => sent / 24,
    async say(text, options = {}) {
      const toneMs = options.toneMs ?? 500;
      emulator.control.queueTranscripts([text], callId);
      const n = socket.events.length;
      const startAudioMs = (sent + queued.reduce((a, q) => a + q.length, 0)) / 24;
      queued.push(tone(toneMs));
      const endAudioMs = startAudioMs + toneMs;
      const fresh = () => socket.events.slice(n);
      const itemId = await waitFor(
        () => fresh().find((e) => e.type === "input_audio_buffer.committed")?.item_id as string,
        { message: "turn committed" },
      );
      await waitFor(
        () =>
          fresh().some((e) => (e.type === COMPLETED || e.type === FAILED) && e.item_id === itemId),
        { timeoutMs: 10_000, message: "transcription ended" },
      );
      return {
        itemId,
        startWall: startedAt + startAudioMs,
        endWall: startedAt + endAudioMs,
        startAudioMs,
        endAudioMs,
      };
    },
    async close() {
      clearInterval(timer);
      await socket.close();
    },
  };
}

/**
 * Closes the call's sideband connections (code 1011, as a network drop) except `keep` — white-box
 * through the emulator's state, because the control API's `dropSidebands` drops every one.
 */
export function dropSidebandsExcept(
  emulator: RunningEmulator,
  callId: string,
  keep: string[],
): number {
  const session = emulator.control.state.calls.get(callId)?.session;
  let n = 0;
  for (const sink of [...session?.sinks ?? []]) {
    if (sink.kind !== "sideband" || keep.includes(sink.id)) continue;
    session!.detach(sink);
    sink.close(1011, "test: sideband dropped");
    n++;
  }
  return n;
}

/** `POST /_emulator/faults` with `body`; returns the control API's answer. */
export async function setFaults(
  emulator: RunningEmulator,
  body: Record<string, unknown>,
): Promise<Ev> {
  const res = await fetch(`${emulator.baseUrl}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`faults: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Options for {@linkcode startResilientApp}. */
export interface ResilientAppOptions {
  emulator?: EmulatorOptions;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Overrides `config.platformRequestLimitSeconds` (may be below the env minimum of 5 s). */
  platformRequestLimitSeconds?: number | null;
  /** Store URL (default `:memory:`). */
  databaseUrl?: string;
}

/** A running app wired with the resilience parts; `close()` stops everything. */
export interface ResilientApp {
  baseUrl: string;
  emulator: RunningEmulator;
  store: Store;
  sidebands: SidebandRegistry;
  server: Deno.HttpServer<Deno.NetAddr>;
  logs: LogLine[];
  reconnects: ReconnectInfo[];
  /** Stops what is still running (safe after a graceful shutdown closed the server and store). */
  close(): Promise<void>;
}

/**
 * Starts the app on loopback as production wires it (`assembleDeps` retries upstream calls where
 * safe, reconnects sidebands and mounts the continuation route), with a file or `:memory:` store
 * and a config whose platform request limit may be set below the environment's minimum.
 */
export async function startResilientApp(
  options: ResilientAppOptions = {},
): Promise<ResilientApp> {
  const emulator = await startEmulator({
    firstDeltaDelayMs: 10,
    completedDelayMs: 30,
    sessionUpdatedDelayMs: 0,
    ...options.emulator,
  });
  const config = await loadConfig({
    OPENAI_API_KEY: emulator.apiKey,
    OPENAI_BASE_URL: emulator.baseUrl,
    SIGNING_SECRET: "test-signing-secret-0123456789",
    INTERNAL_SECRET: "test-internal-secret-0123456789",
    // A Speaker's turns end by server VAD: a model that takes it, not the page-committed default.
    TRANSCRIPTION_MODEL: "gpt-transcribe",
    ...options.env,
  }, { platform: "local" });
  if (options.platformRequestLimitSeconds !== undefined) {
    config.platformRequestLimitSeconds = options.platformRequestLimitSeconds;
  }
  const store = await openStore(config, { url: options.databaseUrl ?? ":memory:" });
  const logs: LogLine[] = [];
  const reconnects: ReconnectInfo[] = [];
  const log: Logger = (level, message, fields) => {
    logs.push({ level, message, fields });
    if (message === "Sideband reconnected") reconnects.push(fields as unknown as ReconnectInfo);
  };
  const sidebands = new SidebandRegistry();
  // assembleDeps wires the resilient parts: retried upstream calls, reconnecting sidebands;
  // createApp mounts the continuation route.
  const deps: AppDeps = assembleDeps({
    config,
    store,
    readFile: createFileReader({ platform: "local" }),
    log,
    sidebands,
  });
  const app = createApp(deps);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  deps.ownOrigin.listening(server.addr);
  let closed = false;
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    emulator,
    store,
    sidebands,
    server,
    logs,
    reconnects,
    async close() {
      if (closed) return;
      closed = true;
      await sidebands.shutdown();
      await server.shutdown().catch(() => {});
      await emulator.close();
      await store.close().catch(() => {});
    },
  };
}

/** A page of a {@linkcode ResilientApp} in headless Chromium. */
export interface ResilientPage {
  app: ResilientApp;
  browser: LaunchedBrowser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Starts a {@linkcode ResilientApp}, launches Chromium (silent microphone unless `wav`), records
 * every `RTCPeerConnection` the page makes in `window.__pcs`, and opens the page.
 */
export async function openResilientPage(
  options: ResilientAppOptions & { wav?: string; logConsole?: boolean } = {},
): Promise<ResilientPage> {
  const app = await startResilientApp(options);
  try {
    const wav = options.wav ?? (await makeSilenceWav(60)).path;
    const { browser, page, pageErrors } = await loadPage(app.baseUrl, {
      wav,
      logConsole: options.logConsole,
      initScript: () => {
        const Original = globalThis.RTCPeerConnection;
        const pcs: RTCPeerConnection[] = [];
        (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
        globalThis.RTCPeerConnection = class extends Original {
          constructor(config?: RTCConfiguration) {
            super(config);
            pcs.push(this);
          }
        };
      },
    });
    return {
      app,
      browser,
      page,
      pageErrors,
      async close() {
        await browser.close();
        await app.close();
      },
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** Makes the page's newest peer connection report `state` (as a network failure would). */
export async function fakeConnectionState(
  page: Page,
  state: RTCPeerConnectionState,
): Promise<void> {
  await page.evaluate((s) => {
    const pcs = (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = pcs.at(-1)!;
    Object.defineProperty(pc, "connectionState", { get: () => s, configurable: true });
    pc.dispatchEvent(new Event("connectionstatechange"));
  }, state);
}

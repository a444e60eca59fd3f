/**
 * A live WebRTC call for server-side tests: the emulator, the app's config, a `:memory:` store, the
 * upstream client, a call created by a werift peer through `POST /v1/realtime/calls`, and its
 * stored session row. Used by the sideband tests, which run `runSideband` against it.
 *
 * @module
 */
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../emulator/mod.ts";
import { type Config, loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/mod.ts";
import type { Store } from "../lib/store/types.ts";
import {
  buildTranscriptionSession,
  resolveSessionOptions,
  type SessionSettings,
} from "../lib/session_config.ts";
import { createUpstream, type UpstreamClient } from "../lib/upstream.ts";
import { createTestPeer } from "./server.ts";

/** What {@linkcode openLiveCall} returns; `close()` it in a `finally`. */
export interface LiveCall {
  emulator: RunningEmulator;
  config: Config;
  store: Store;
  upstream: UpstreamClient;
  settings: SessionSettings;
  callId: string;
  sessionId: string;
  close(): Promise<void>;
}

/** Options for {@linkcode openLiveCall}. */
export interface LiveCallOptions {
  /** Extra environment for `loadConfig`. */
  env?: Record<string, string>;
  /** Emulator options on top of fast transcripts (10 ms first delta, 30 ms completed). */
  emulator?: EmulatorOptions;
  /** The page's session options (default `{}`). */
  session?: Record<string, unknown>;
}

/** Starts the emulator and opens one live call with a stored session (see module doc). */
export async function openLiveCall(options: LiveCallOptions = {}): Promise<LiveCall> {
  const emulator = await startEmulator({
    firstDeltaDelayMs: 10,
    completedDelayMs: 30,
    ...options.emulator,
  });
  const config = await loadConfig({
    OPENAI_API_KEY: emulator.apiKey,
    OPENAI_BASE_URL: emulator.baseUrl,
    // Tests speak into the call without the page: a model whose turns the server VAD ends.
    TRANSCRIPTION_MODEL: "gpt-transcribe",
    ...options.env,
  }, { platform: "local" });
  const store = await openStore(config, { url: ":memory:" });
  const upstream = createUpstream({ baseUrl: config.openaiBaseUrl, apiKey: config.openaiApiKey });
  const settings = resolveSessionOptions(options.session ?? {}, {
    defaultModel: config.defaultModel,
  });
  const peer = await createTestPeer();
  const call = await upstream.createCall({
    sdp: peer.offer,
    session: buildTranscriptionSession(settings),
  });
  await peer.answer(call.sdp);
  const row = await store.createSession({
    source: "webrtc",
    model: settings.model,
    settings: settings as unknown as Record<string, unknown>,
    callId: call.callId,
  });
  return {
    emulator,
    config,
    store,
    upstream,
    settings,
    callId: call.callId,
    sessionId: row.id,
    async close() {
      await peer.close();
      await emulator.close();
      await store.close();
    },
  };
}

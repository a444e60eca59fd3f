/**
 * Local entry: `deno task start`. Serves the app with `Deno.serve`. Without `OPENAI_API_KEY` it
 * starts the Realtime emulator in-process and runs as an offline demo whose transcripts are
 * placeholders.
 *
 * @module
 */
import { createApp } from "./app.ts";
import { consoleLogger, readEnv, setUp } from "./lib/setup.ts";
import { installShutdownHandler } from "./lib/shutdown.ts";

// Not a literal specifier: Deno would load the whole emulator (WebRTC stack and its npm packages)
// on every start, key or not, before the first byte of `/`. The deployed val never loads it.
const EMULATOR_MODULE = new URL("./emulator/mod.ts", import.meta.url).href;

const env = readEnv();
let emulator:
  | { baseUrl: string; apiKey: string; close(): Promise<void> }
  | null = null;
if (!env.OPENAI_API_KEY) {
  const { startEmulator }: typeof import("./emulator/mod.ts") = await import(EMULATOR_MODULE);
  emulator = await startEmulator({});
  env.OPENAI_API_KEY = emulator.apiKey;
  env.OPENAI_BASE_URL = emulator.baseUrl;
}

const deps = await setUp({ env, platform: "local", demo: emulator !== null });
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: deps.config.port,
  onListen: (addr) => {
    const { port } = addr;
    // Self-invoked requests go to this bound address, never to a request's Host.
    deps.ownOrigin.listening(addr);
    consoleLogger("info", "hello-transcription is listening", {
      url: `http://localhost:${port}/`,
      ...(emulator
        ? {
          mode: "offline demo: transcripts are placeholders, set OPENAI_API_KEY for real ones",
          emulator: emulator.baseUrl,
        }
        : {}),
    });
  },
}, createApp(deps).fetch);

// On SIGINT/SIGTERM: flush and stop the sidebands, then the server and the store.
installShutdownHandler({
  sidebands: deps.sidebands,
  store: deps.store,
  server,
  log: consoleLogger,
  onClosed: async () => await emulator?.close(),
});

/**
 * Local entry: `deno task start`. Serves the app with `Deno.serve`. Without `OPENAI_API_KEY` it
 * starts the Realtime emulator in-process (imported dynamically, so the deployed val never loads
 * it) and runs as an offline demo whose transcripts are placeholders.
 *
 * @module
 */
import { buildApp, consoleLogger, readEnv } from "./main.tsx";
import { installShutdownHandler } from "./lib/shutdown.ts";

const env = readEnv();
let emulator:
  | { baseUrl: string; apiKey: string; close(): Promise<void> }
  | null = null;
if (!env.OPENAI_API_KEY) {
  const { startEmulator } = await import("./emulator/mod.ts");
  emulator = await startEmulator({});
  env.OPENAI_API_KEY = emulator.apiKey;
  env.OPENAI_BASE_URL = emulator.baseUrl;
  // The emulator's key is public: never derive the signing secrets from it.
  const random = () => crypto.randomUUID() + crypto.randomUUID();
  env.SIGNING_SECRET ??= random();
  env.INTERNAL_SECRET ??= random();
}

const { app, deps } = await buildApp({
  env,
  platform: "local",
  demo: emulator !== null,
});
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: deps.config.port,
  onListen: ({ port }) => {
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
}, app.fetch);

// issue #8: on SIGINT/SIGTERM flush and stop the sidebands, then the server and the store.
installShutdownHandler({
  sidebands: deps.sidebands!,
  store: deps.store,
  server,
  log: consoleLogger,
  onClosed: async () => await emulator?.close(),
});

/**
 * Standalone emulator: `deno task emulator [--port 8787] [--api-key sk-…] [--options '{…}']`.
 * Prints the base URL and the accepted API key. Env: `EMULATOR_PORT`,
 * `EMULATOR_HOSTNAME`, `EMULATOR_API_KEY`, `EMULATOR_OPTIONS` (JSON of any option).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type EmulatorOptions, startEmulator } from "./mod.ts";

const HELP = `Usage: deno task emulator [options]
  --port <n>                 TCP port (default 8787; 0 = any free port)
  --hostname <h>             interface (default 127.0.0.1)
  --api-key <key>            accepted standard key (default sk-emulator-local)
  --session-max-seconds <n>  session duration limit (default 3600)
  --first-delta-ms <n>       delay from commit to the first delta (default 1200)
  --completed-ms <n>         delay from commit to completed (default 1400)
  --options <json>           any startEmulator() option as JSON (see docs/emulator.md)
  --verbose                  log requests
Environment: EMULATOR_PORT, EMULATOR_HOSTNAME, EMULATOR_API_KEY, EMULATOR_OPTIONS.`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    hostname: { type: "string" },
    "api-key": { type: "string" },
    "session-max-seconds": { type: "string" },
    "first-delta-ms": { type: "string" },
    "completed-ms": { type: "string" },
    options: { type: "string" },
    verbose: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    console.error(`Not a number: ${v}`);
    Deno.exit(2);
  }
  return n;
}

const env = (k: string) => Deno.env.get(k);
const json = values.options ?? env("EMULATOR_OPTIONS");
const options: EmulatorOptions = {
  port: 8787,
  ...(json ? JSON.parse(json) : {}),
};
const set = <K extends keyof EmulatorOptions>(
  k: K,
  v: EmulatorOptions[K] | undefined,
) => {
  if (v !== undefined) options[k] = v;
};
set("port", num(values.port ?? env("EMULATOR_PORT")));
set("hostname", values.hostname ?? env("EMULATOR_HOSTNAME"));
set("apiKey", values["api-key"] ?? env("EMULATOR_API_KEY"));
set("sessionMaxSeconds", num(values["session-max-seconds"]));
set("firstDeltaDelayMs", num(values["first-delta-ms"]));
set("completedDelayMs", num(values["completed-ms"]));
if (values.verbose) options.verbose = true;

const emu = await startEmulator(options);
console.log(`OpenAI Realtime emulator listening on ${emu.baseUrl}`);
console.log(`Accepted API key: ${emu.apiKey}`);
console.log(`Control API: ${emu.baseUrl}/_emulator/ (see docs/emulator.md)`);
const stop = async () => {
  await emu.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

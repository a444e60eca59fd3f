/**
 * Val Town entry (an HTTP val): builds the dependencies from the environment on the first request
 * and serves the Hono app. `export default` is a fetch function; there is no `Deno.serve` here
 * (`start.ts` is the local entry). Module load never throws: a missing key is explained by the
 * page, and a bad environment variable becomes a 503 naming it (a page for a browser, JSON for
 * the API: `lib/startup_page.ts`).
 *
 * The page it serves at `/` is `frontend/index.html`; its one script, `frontend/app.js`, wires the
 * page together (see docs/architecture.md, "Paths from `main.tsx`").
 *
 * @module
 */
import { type AppDeps, createApp, type Logger } from "./app.ts";
import { type ConfigError, EnvSchema, loadConfig, type LoadConfigOptions } from "./lib/config.ts";
import { createFileReader, type FileReader } from "./lib/files.ts";
import { SidebandRegistry } from "./lib/sideband_registry.ts";
import { openStore } from "./lib/store/mod.ts";
import { startupFailureResponse } from "./lib/startup_page.ts";
import type { Store } from "./lib/store/types.ts";
import { valTownEnvVarsUrl } from "./routes/pages.ts";
import type { Hono } from "npm:hono@4.13.19";

/** Logs one JSON line per event to the console (callers never pass secrets). */
export const consoleLogger: Logger = (level, message, fields) => {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else if (level === "info") console.log(line);
};

/** Reads the variables the app knows (on Val Town `Deno.env.toObject()` may be denied). */
export function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of [...Object.keys(EnvSchema.shape), "VALTOWN_ENTRYPOINT"]) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      env[name] = undefined;
    }
  }
  return env;
}

/** Options for {@linkcode buildApp}. */
export interface BuildAppOptions extends LoadConfigOptions {
  env: Record<string, string | undefined>;
  /** A ready store (tests); otherwise `openStore(config)` picks the platform's one. */
  store?: Store;
  readFile?: FileReader;
  log?: Logger;
  fetch?: typeof fetch;
}

/** Builds the app and its dependencies for this platform. */
export async function buildApp(
  options: BuildAppOptions,
): Promise<{ app: Hono; deps: AppDeps }> {
  const config = await loadConfig(options.env, options);
  const store = options.store ?? await openStore(config);
  const log = options.log ?? consoleLogger;
  const deps: AppDeps = {
    config,
    store,
    readFile: options.readFile ??
      createFileReader({ platform: config.platform }),
    fetch: options.fetch,
    log,
    envVarsUrl: valTownEnvVarsUrl(
      options.env.VALTOWN_ENTRYPOINT ?? import.meta.url,
    ),
    sidebands: new SidebandRegistry(),
  };
  return { app: createApp(deps), deps };
}

/**
 * Builds the val's HTTP handler over an environment reader: the app, built once per process;
 * while it cannot be built, an answer that says so (a page for browsers, JSON for the API).
 */
export function createFetchHandler(
  env: () => Record<string, string | undefined>,
): (req: Request) => Promise<Response> {
  let ready: Promise<(req: Request) => Response | Promise<Response>> | null = null;
  return async (req) => {
    ready ??= buildApp({ env: env() }).then(
      ({ app }) => app.fetch,
      (err) => {
        ready = null; // try again on the next request (e.g. a database hiccup)
        return startupFailure(err);
      },
    );
    return await (await ready)(req);
  };
}

function startupFailure(err: unknown): (req: Request) => Response {
  const config = (err as Error)?.name === "ConfigError" ? err as ConfigError : null;
  const problem = {
    message: config?.message ?? "The server could not start: see the val's logs",
    variable: config?.variable ?? null,
  };
  consoleLogger("error", "Startup failed", {
    error: String((err as Error)?.stack ?? err),
  });
  return (req) => startupFailureResponse(req, problem);
}

/** The val's HTTP handler: the app's `fetch`, built once per process. */
const fetchHandler: (req: Request) => Promise<Response> = createFetchHandler(readEnv);
export default fetchHandler;

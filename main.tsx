/**
 * Val Town entry (an HTTP val): builds the dependencies from the environment on the first request
 * and serves the Hono app. `export default` is a fetch function; there is no `Deno.serve` here
 * (`start.ts` is the local entry). Module load never throws: a missing key is explained by the
 * page, and a bad environment variable becomes a JSON 503 naming it.
 *
 * The page it serves at `/` is `frontend/index.html`; its one script, `frontend/app.js`, wires the
 * page together (see docs/architecture.md, "Paths from `main.tsx`").
 *
 * @module
 */
import { type AppDeps, createApp, type Logger } from "./app.ts";
import { EnvSchema, loadConfig, type LoadConfigOptions } from "./lib/config.ts";
import { createFileReader, type FileReader } from "./lib/files.ts";
import { SidebandRegistry } from "./lib/sideband_registry.ts";
import { openStore } from "./lib/store/mod.ts";
import type { Store } from "./lib/store/types.ts";
import { valTownEnvVarsUrl } from "./routes/pages.ts";
import { withStoredSecrets } from "./lib/security/secrets.ts";
import { logSafeFields } from "./lib/security/log_fields.ts";
import { OwnOrigin } from "./lib/security/own_origin.ts";
import type { Hono } from "npm:hono@4.13.19";

/**
 * Logs one JSON line per event to the console (callers never pass secrets); session ids are
 * shortened, since each one opens its transcript (`lib/security/log_fields.ts`).
 */
export const consoleLogger: Logger = (level, message, fields) => {
  const line = JSON.stringify({ level, message, ...logSafeFields(fields) });
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
  const loaded = await loadConfig(options.env, options);
  const store = options.store ?? await openStore(loaded);
  // Unset secrets are random, kept in the Store so every process agrees (never from the API key).
  const config = await withStoredSecrets(loaded, store);
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
    ownOrigin: new OwnOrigin({ platform: config.platform, publicOrigin: config.publicOrigin }),
  };
  return { app: createApp(deps), deps };
}

let ready: Promise<(req: Request) => Response | Promise<Response>> | null = null;

function startupFailure(err: unknown): (req: Request) => Response {
  const message = err instanceof Error && err.name === "ConfigError"
    ? err.message
    : "The server could not start: see the val's logs";
  consoleLogger("error", "Startup failed", {
    error: String((err as Error)?.stack ?? err),
  });
  return (req) =>
    Response.json({ error: { code: "startup_failed", message } }, {
      status: 503,
      // Our own CORS header even here, so the platform's `*` default never applies.
      headers: { "Retry-After": "5", "Access-Control-Allow-Origin": new URL(req.url).origin },
    });
}

/** The val's HTTP handler: the app's `fetch`, built once per process. */
export default async function fetchHandler(req: Request): Promise<Response> {
  ready ??= buildApp({ env: readEnv() }).then(
    ({ app }) => app.fetch,
    (err) => {
      ready = null; // try again on the next request (e.g. a database hiccup)
      return startupFailure(err);
    },
  );
  return await (await ready)(req);
}

/**
 * The one place the app's dependencies are assembled: environment → config, then the store (opened
 * on first use), the upstream client with retries, the reconnecting sideband sockets, the registry
 * of running sidebands and the logger. `main.tsx` (Val Town), `start.ts` (local) and
 * `testing/server.ts` all call {@linkcode setUp}; tests that bring their own config and store call
 * {@linkcode assembleDeps}. The result is complete: `createApp` fills nothing in.
 *
 * @module
 */
import { ENV_VARIABLES, loadConfig, type LoadConfigOptions } from "./config.ts";
import type { AppDeps, Logger } from "./deps.ts";
import { createFileReader, type FileReader } from "./files.ts";
import { withRetries } from "./retry.ts";
import { SidebandRegistry } from "./sideband_registry.ts";
import {
  type ConnectWebSocket,
  denoConnectWebSocket,
  reconnectingConnect,
} from "./reconnecting_socket.ts";
import { logSafeFields } from "./security/log_fields.ts";
import { OwnOrigin } from "./security/own_origin.ts";
import { lazyStore } from "./store/lazy.ts";
import type { OpenStoreOptions } from "./store/mod.ts";
import type { Store } from "./store/types.ts";
import { createUpstream, type UpstreamClient } from "./upstream.ts";
import { valTownEnvVarsUrl } from "./valtown_urls.ts";
import { loadLater } from "./load_later.ts";

const loadStoreModule = loadLater<typeof import("./store/mod.ts")>(
  new URL("./store/mod.ts", import.meta.url),
);

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
  for (const name of [...Object.keys(ENV_VARIABLES), "VALTOWN_ENTRYPOINT"]) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      env[name] = undefined;
    }
  }
  return env;
}

/** The parts {@linkcode assembleDeps} needs; everything else has a production default. */
export interface DepsParts {
  config: AppDeps["config"];
  store: Store;
  readFile?: FileReader;
  log?: Logger;
  /** Outbound HTTP; default the global `fetch` (looked up per call). */
  fetch?: typeof fetch;
  /** The raw socket opener the reconnecting one wraps; default Deno's `new WebSocket`. */
  connectWebSocket?: ConnectWebSocket;
  /** Default: the REST client on `config` and `fetch`, with retries where a repeat is safe. */
  upstream?: UpstreamClient;
  /** Default: a new, empty registry (tests pass one to inspect it). */
  sidebands?: SidebandRegistry;
  envVarsUrl?: string | null;
  /** Default: from `config.platform` and `config.publicOrigin` (`PUBLIC_URL`). */
  ownOrigin?: OwnOrigin;
}

/** Completes `parts` with the production defaults. */
export function assembleDeps(parts: DepsParts): AppDeps {
  const log = parts.log ?? consoleLogger;
  const doFetch = parts.fetch ?? ((input, init) => fetch(input, init));
  return {
    config: parts.config,
    store: parts.store,
    readFile: parts.readFile ?? createFileReader({ platform: parts.config.platform }),
    fetch: doFetch,
    log,
    // Transient upstream failures are retried where a repeat is safe (lib/retry.ts).
    upstream: parts.upstream ?? withRetries(
      createUpstream({
        baseUrl: parts.config.openaiBaseUrl,
        apiKey: parts.config.openaiApiKey,
        fetch: doFetch,
        log,
      }),
      { log },
    ),
    // A dropped sideband reconnects with backoff while its call goes on.
    connectWebSocket: reconnectingConnect({
      connect: parts.connectWebSocket ?? denoConnectWebSocket,
      log,
    }),
    sidebands: parts.sidebands ?? new SidebandRegistry(),
    envVarsUrl: parts.envVarsUrl ?? null,
    ownOrigin: parts.ownOrigin ?? new OwnOrigin({
      platform: parts.config.platform,
      publicOrigin: parts.config.publicOrigin,
    }),
  };
}

/** Options for {@linkcode setUp}. */
export interface SetUpOptions extends LoadConfigOptions {
  env: Record<string, string | undefined>;
  /** A ready store (tests); otherwise the platform's store, opened on first use. */
  store?: Store;
  /** Options for the platform's store (ignored with `store`). */
  storeOptions?: OpenStoreOptions;
  readFile?: FileReader;
  log?: Logger;
  fetch?: typeof fetch;
}

/**
 * Builds the dependencies for this platform from the environment. Throws `ConfigError` for a bad
 * variable; reaches no database (the store opens on the first request that needs it).
 *
 * @example
 * ```ts
 * const app = createApp(await setUp({ env: readEnv() }));
 * ```
 */
export async function setUp(options: SetUpOptions): Promise<AppDeps> {
  const config = await loadConfig(options.env, options);
  const store = options.store ?? lazyStore(async () => {
    // Loaded when the store first opens; the SQL driver too (lib/store/mod.ts).
    const { openStore } = await loadStoreModule();
    return await openStore(config, options.storeOptions);
  });
  return assembleDeps({
    config,
    store,
    readFile: options.readFile,
    log: options.log,
    fetch: options.fetch,
    envVarsUrl: valTownEnvVarsUrl(options.env.VALTOWN_ENTRYPOINT ?? import.meta.url),
  });
}

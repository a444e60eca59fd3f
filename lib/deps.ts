/**
 * The shapes every layer shares: the {@linkcode AppDeps} that `createApp` receives (complete, built
 * by `lib/setup.ts`), the {@linkcode Logger} and the JSON {@linkcode ErrorBody}. They live here, not
 * in `app.ts`, so `lib/` never imports the app it is part of.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { OwnOrigin } from "./security/own_origin.ts";
import type { ConnectWebSocket } from "./reconnecting_socket.ts";
import type { SidebandRegistry } from "./sideband_registry.ts";
import type { Store } from "./store/types.ts";
import type { UpstreamClient } from "./upstream.ts";

/** A structured log line; implementations must never receive secrets. */
export type Logger = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** JSON error body used by every route: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    upstreamStatus?: number;
    field?: string;
  };
}

/** Everything the app needs from the outside world, already assembled (see `lib/setup.ts`). */
export interface AppDeps {
  config: Config;
  /** Opens on first use (`lazyStore`), so the page is served before the database is reached. */
  store: Store;
  /** Reads one of the val's own files (path relative to the project root, e.g. `frontend/app.js`). */
  readFile: (path: string) => Promise<Uint8Array>;
  /** Outbound HTTP (OpenAI, self-invocation). */
  fetch: typeof fetch;
  /** Opens an outbound WebSocket with headers; reconnects a dropped sideband with backoff. */
  connectWebSocket: ConnectWebSocket;
  log: Logger;
  /** OpenAI REST client, retrying where a repeat is safe. */
  upstream: UpstreamClient;
  /** Running sidebands of this process. */
  sidebands: SidebandRegistry;
  /** Val Town's environment-variable page for this val, when known (shown when the key is missing). */
  envVarsUrl: string | null;
  /**
   * The app's own origin for its requests to itself and its CORS policy (never a request's
   * `Host`); a local server reports its bound address with `listening()`.
   */
  ownOrigin: OwnOrigin;
}

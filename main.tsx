/**
 * Val Town entry (an HTTP val): builds the dependencies from the environment on the first request
 * (`lib/setup.ts`) and serves the Hono app (`app.ts`). `export default` is a fetch function; there
 * is no `Deno.serve` here (`start.ts` is the local entry). Module load never throws: a missing key
 * is explained by the page, and a bad environment variable becomes a 503 naming it (a page for a
 * browser, JSON for the API: `lib/startup_page.ts`).
 *
 * Where to read on (docs/architecture.md, "Paths from `main.tsx`"):
 * - the page it serves at `/` is `frontend/index.html`; its one script, `frontend/app.js`, wires
 *   the page together;
 * - every call's server events are recorded by its sideband, `lib/sideband.ts` (`runSideband`);
 * - `createApp` puts the security middleware of `lib/security/mod.ts` in front of every route,
 *   the mint rate limit among it.
 *
 * @module
 */
import { createApp } from "./app.ts";
import type { ConfigError } from "./lib/config.ts";
import { consoleLogger, readEnv, setUp } from "./lib/setup.ts";
import { startupFailureResponse } from "./lib/startup_page.ts";

/**
 * Builds the val's HTTP handler over an environment reader: the app, built once per process;
 * while it cannot be built, an answer that says so (a page for browsers, JSON for the API).
 */
export function createFetchHandler(
  env: () => Record<string, string | undefined>,
): (req: Request) => Promise<Response> {
  let ready: Promise<(req: Request) => Response | Promise<Response>> | null = null;
  return async (req) => {
    ready ??= setUp({ env: env() }).then(
      (deps) => createApp(deps).fetch,
      (err) => {
        ready = null; // try again on the next request
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

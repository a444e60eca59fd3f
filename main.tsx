/**
 * Val Town entry (an HTTP val): builds the dependencies from the environment on the first request
 * (`lib/setup.ts`) and serves the Hono app (`app.ts`). `export default` is a fetch function; there
 * is no `Deno.serve` here (`start.ts` is the local entry). Module load never throws: a missing key
 * is explained by the page, and a bad environment variable becomes a JSON 503 naming it.
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
import { consoleLogger, readEnv, setUp } from "./lib/setup.ts";

let ready: Promise<(req: Request) => Response | Promise<Response>> | null = null;

function startupFailure(err: unknown): (req: Request) => Response {
  const message = err instanceof Error && err.name === "ConfigError"
    ? err.message
    : "The server could not start: see the val's logs";
  consoleLogger("error", "Startup failed", {
    error: String((err as Error)?.stack ?? err),
  });
  return () =>
    Response.json({ error: { code: "startup_failed", message } }, {
      status: 503,
      headers: { "Retry-After": "5" },
    });
}

/** The val's HTTP handler: the app's `fetch`, built once per process. */
export default async function fetchHandler(req: Request): Promise<Response> {
  ready ??= setUp({ env: readEnv() }).then(
    (deps) => createApp(deps).fetch,
    (err) => {
      ready = null; // try again on the next request
      return startupFailure(err);
    },
  );
  return await (await ready)(req);
}

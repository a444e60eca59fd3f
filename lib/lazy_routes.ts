/**
 * A sub-app whose module loads on its first request: for routes most processes never serve (the
 * SIP webhooks), so their modules stay off the path to the first byte of `/`. The loaded
 * sub-app answers with the same request and `env` (connection info); a path it has no route
 * for is the app's JSON 404, and its errors reach the app's error handler.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import { routeNotFound } from "./api_errors.ts";

/**
 * Mounts `load()`'s sub-app at `base`, loading it once on first use (again after a failed load).
 *
 * @example
 * ```ts
 * const WEBHOOKS = new URL("./routes/webhooks.ts", import.meta.url).href;
 * app.route("/webhooks", lazyRoutes("/webhooks", async () => (await import(WEBHOOKS)).webhookRoutes(deps)));
 * ```
 */
export function lazyRoutes(base: string, load: () => Promise<Hono>): Hono {
  let loaded: Promise<Hono> | null = null;
  const inner = () =>
    loaded ??= load().then((sub) => {
      const app = new Hono();
      app.route(base, sub);
      app.notFound(() => routeNotFound());
      // Rethrown so the outer app's onError answers, as for any other route.
      app.onError((err) => {
        throw err;
      });
      return app;
    }).catch((err) => {
      loaded = null;
      throw err;
    });
  const app = new Hono();
  app.all("*", async (c) => await (await inner()).fetch(c.req.raw, c.env));
  return app;
}

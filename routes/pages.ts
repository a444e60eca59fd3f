/**
 * The page and its static modules (`/`, `/frontend/*`, `/shared/*`), read through
 * `deps.readFile` (disk locally, Val Town's std utils there) by `lib/static_files.ts`. These
 * routes never touch the store, so a cold process answers them first.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { staticFiles } from "../lib/static_files.ts";

/** Routes for the page and its assets. */
export function pageRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const files = staticFiles({ readFile: deps.readFile, log: deps.log });

  app.use("/", files.etag);
  app.use("/frontend/*", files.etag);
  app.use("/shared/*", files.etag);
  // The page.
  app.get("/", () => files.serve("frontend/index.html"));
  // The page's modules and styles.
  app.get("/frontend/*", (c) => files.serve(c.req.path.slice(1)));
  // Modules shared by the page and the server.
  app.get("/shared/*", (c) => files.serve(c.req.path.slice(1)));

  return app;
}

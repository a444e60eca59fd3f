/**
 * Placeholder sub-app; its owner replaces it.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../app.ts";

/** Routes for this resource. */
export function sessionRoutes(_deps: AppDeps): Hono {
  return new Hono();
}

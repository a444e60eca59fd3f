/**
 * Who is asking: the client IP address used by the rate limits and the sign-in throttle.
 *
 * Trust model: on Val Town every request passes through the platform's proxy, which sets
 * `x-forwarded-for`; its first hop is the address the proxy saw, so it is used there. Locally the
 * app is reached directly, so `x-forwarded-for` is attacker-controlled and ignored: the socket
 * address from `Deno.serve` (Hono's `c.env` is Deno's `ServeHandlerInfo`) is used instead.
 *
 * @module
 */
import type { Context } from "npm:hono@4.13.19";
import type { Platform } from "../config.ts";
import { base64url, hmacSign } from "../hmac.ts";

/** Options for {@linkcode clientIp}. */
export interface ClientIpOptions {
  /** Where the app runs; only `valtown` trusts `x-forwarded-for`. */
  platform: Platform;
}

/** Returned when no address can be determined (e.g. `app.request` in tests without an env). */
export const UNKNOWN_IP = "unknown";

const IP_SHAPE = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The client's IP address as text, or {@linkcode UNKNOWN_IP}.
 *
 * @example
 * ```ts
 * app.get("/", (c) => c.text(clientIp(c, { platform: "local" })));
 * ```
 */
export function clientIp(c: Context, options: ClientIpOptions): string {
  if (options.platform === "valtown") {
    const first = c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ?? "";
    if (IP_SHAPE.test(first)) return first.toLowerCase();
  }
  const env = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = env?.remoteAddr?.hostname;
  if (typeof host === "string" && IP_SHAPE.test(host)) {
    return host.toLowerCase();
  }
  return UNKNOWN_IP;
}

/** Recent pseudonyms by secret and IP: a page mints again and again from one address. */
const recent = new Map<string, string>();
const RECENT_MAX = 1024;

/**
 * A stable pseudonym for an IP: HMAC-SHA256(secret, ip), base64url, 22 characters. Counters and
 * session rows store this, never the raw address.
 */
export async function clientKey(secret: string, ip: string): Promise<string> {
  const cacheKey = `${secret.length}:${secret}:${ip}`;
  const known = recent.get(cacheKey);
  if (known !== undefined) return known;
  // The key is imported once per secret (lib/hmac.ts): this runs on every mint and list.
  const pseudonym = base64url((await hmacSign(secret, `client-ip:${ip}`)).subarray(0, 16));
  // Bounded: a flood of addresses costs an HMAC each, never unbounded memory.
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(cacheKey, pseudonym);
  return pseudonym;
}

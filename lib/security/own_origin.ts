/**
 * The app's own origin, for the requests it sends itself (`/internal/sideband/…`, which carry
 * `INTERNAL_SECRET`) and for its CORS policy — never taken from a request's `Host` header, which
 * any client can forge. It comes from `PUBLIC_URL` when set, else locally from the address the
 * server is bound to (`start.ts` reports it with {@linkcode OwnOrigin.listening}), else on Val Town
 * from the request URL as the platform restores it (its proxy routes by host, so a forged `Host`
 * never reaches this val; see docs/security.md, "Platform facts we assume").
 *
 * {@linkcode hostGuard} refuses local requests whose `Host` is neither loopback nor `PUBLIC_URL`'s
 * host, so a DNS-rebinding page cannot drive a developer's local server (and its real key).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import type { Platform } from "../config.ts";
import { apiError } from "../api_errors.ts";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** True for loopback host names (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(h) || h.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Where the app runs and what the operator configured. */
export interface OwnOriginOptions {
  platform: Platform;
  /** `PUBLIC_URL`'s origin, or null. */
  publicOrigin: string | null;
}

/** The app's own origin; one per app (`AppDeps.ownOrigin`). */
export class OwnOrigin {
  readonly #platform: Platform;
  readonly #configured: string | null;
  #bound: string | null = null;

  constructor(options: OwnOriginOptions) {
    this.#platform = options.platform;
    this.#configured = options.publicOrigin;
  }

  /** Records the local server's bound address (from `Deno.serve`'s `onListen`). */
  listening(addr: { hostname: string; port: number }): void {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    // A wildcard bind is reachable on loopback too; the self request goes there.
    const reachable = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
    this.#bound = `http://${reachable}:${addr.port}`;
  }

  /** `PUBLIC_URL`'s origin, when configured. */
  get configured(): string | null {
    return this.#configured;
  }

  /**
   * The origin the app's requests to itself go to, or null when it is not known (a local app
   * whose server never reported its address): then nothing is sent.
   */
  forSelf(c: Context): string | null {
    // Locally the bound address wins: it is this very process, whatever PUBLIC_URL says (a proxy).
    if (this.#platform === "local") return this.#bound ?? this.#configured;
    return this.#configured ?? new URL(c.req.url).origin;
  }

  /** The origin this response belongs to (for `Access-Control-Allow-Origin`). */
  forCors(c: Context): string {
    return this.#configured ?? this.#bound ?? new URL(c.req.url).origin;
  }

  /** True when a request with this `Host` may be served (always on Val Town). */
  allowsHost(hostname: string): boolean {
    if (this.#platform !== "local") return true;
    if (isLoopbackHost(hostname)) return true;
    if (this.#configured === null) return false;
    return new URL(this.#configured).hostname.toLowerCase() === hostname.toLowerCase();
  }
}

/**
 * Refuses (421 JSON) a local request whose `Host` names another site: the page of a rebinding
 * domain resolves to 127.0.0.1 but still sends its own name.
 *
 * @example
 * ```ts
 * app.use(hostGuard(new OwnOrigin({ platform: "local", publicOrigin: null })));
 * ```
 */
export function hostGuard(own: OwnOrigin): MiddlewareHandler {
  return async function hostGuardMiddleware(c, next) {
    let hostname: string;
    try {
      hostname = new URL(c.req.url).hostname;
    } catch {
      hostname = "";
    }
    if (!own.allowsHost(hostname)) {
      return apiError(
        421,
        "host_not_allowed",
        "This server answers only on its own address: set PUBLIC_URL to serve another host name",
      );
    }
    await next();
  };
}

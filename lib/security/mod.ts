/**
 * All of the app's request-level defences in the order they must run, for one `app.use` call in
 * `createApp`. See `docs/security.md` for what each one defends against.
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";
import type { AppDeps } from "../deps.ts";
import type { Config } from "../config.ts";
import { accessGate, accessGeneration } from "./access.ts";
import { bodyLimits } from "./body_limit.ts";
import { securityHeaders } from "./headers.ts";
import { mintLimits } from "./mint_limits.ts";
import { sameOrigin } from "./same_origin.ts";
import { corsPolicy } from "./cors.ts";
import { clientIdentity } from "./client_id.ts";
import { hostGuard } from "./own_origin.ts";
import { storedSecretsGate } from "./secrets.ts";
import { writeLimits } from "./write_limits.ts";

/** Paths whose POST mints an upstream session (and so spends money). */
export const MINT_PATHS = ["/api/session"];

/**
 * The middleware chain: security headers and the CORS policy (outermost, so every response has
 * them), the local `Host` check, body limits, same-origin check, the Store's secrets when the
 * environment sets none, the client-id cookie, the access-code gate, then the mint limits and the
 * write limits.
 *
 * @example
 * ```ts
 * app.use(...securityMiddleware(deps));
 * ```
 */
export function securityMiddleware(
  deps: Pick<AppDeps, "config" | "store" | "log" | "ownOrigin">,
): MiddlewareHandler[] {
  const { config, store } = deps;
  const own = deps.ownOrigin;
  return [
    // With SIGNALING=relay the page never talks to the Realtime API itself: CSP allows only 'self'.
    securityHeaders({
      realtimeBaseUrl: config.signaling === "relay" ? null : config.openaiBaseUrl,
    }),
    corsPolicy(own),
    hostGuard(own),
    bodyLimits({ jsonBytes: 64 * 1024, sdpBytes: 256 * 1024 }),
    sameOrigin({ prefixes: ["/api", "/auth"], reads: ["/api"] }),
    // Generated secrets come from the Store, on the first request that needs one.
    storedSecretsGate(config, store),
    // Read per request: the gate above may replace the config's secrets after start.
    clientIdentity({
      signingSecret: () => config.signingSecret,
      store,
      secure: (c) => new URL(c.req.url).protocol === "https:" || config.platform === "valtown",
      mintPaths: MINT_PATHS,
      pagePaths: ["/", "/s/*"],
    }),
    accessGate({
      accessCode: config.accessCode,
      signingSecret: () => config.signingSecret,
      generation: accessGeneration(store),
    }),
    // routes/session/mint.ts asks for the decision while its upstream mint is in flight.
    mintLimits({ config, store, paths: MINT_PATHS, optimistic: true, log: deps.log }),
    // Every other write under /api: a rate per client (what they may store: in the routes).
    writeLimits({ config, store, mintPaths: MINT_PATHS }),
  ];
}

/** What the page shows about who may use the val and which caps protect it (`GET /api/config`). */
export interface PublicSecurityInfo {
  /** `public`: anyone with the URL; `access_code`: visitors sign in first. */
  access: "public" | "access_code";
  limits: Config["limits"];
  ephemeralKeyTtlSeconds: number;
}

/** The security fields for `GET /api/config`; contains no secret. */
export function publicSecurityInfo(config: Config): PublicSecurityInfo {
  return {
    access: config.accessCode === null ? "public" : "access_code",
    limits: { ...config.limits },
    ephemeralKeyTtlSeconds: config.ephemeralKeyTtlSeconds,
  };
}

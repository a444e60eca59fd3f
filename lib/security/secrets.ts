/**
 * The val's own secrets when the environment sets none: `SIGNING_SECRET` (tickets, cookies,
 * pseudonyms) and `INTERNAL_SECRET` (self-invoked requests). They are never derived from
 * `OPENAI_API_KEY` — that key may be public (the emulator's `sk-emulator-local`), and a secret
 * derived from it would be too. Instead each is 256 random bits, stored once in the Store's
 * `app_settings` (`INSERT OR IGNORE`, then read back), so every process of the val — and the next
 * start — uses the same one. {@linkcode storedSecretsGate} fetches them on the first request that
 * needs one, so serving the page never waits for the Store.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import type { Config } from "../config.ts";
import type { Store } from "../store/types.ts";
import { underPrefix } from "./same_origin.ts";

/** `app_settings` keys of the generated secrets. */
export const SECRET_SETTINGS = {
  signing: "secret:signing",
  internal: "secret:internal",
} as const;

/**
 * The config with every secret the environment did not set replaced by the Store's (stored from
 * this config's random one if the Store has none yet).
 *
 * @example
 * ```ts
 * const config = await withStoredSecrets(await loadConfig(env), store);
 * ```
 */
export async function withStoredSecrets(config: Config, store: Store): Promise<Config> {
  const [signing, internal] = await Promise.all([
    config.secretsFromEnv.signing
      ? config.signingSecret
      : store.ensureSetting(SECRET_SETTINGS.signing, config.signingSecret),
    config.secretsFromEnv.internal
      ? config.internalSecret
      : store.ensureSetting(SECRET_SETTINGS.internal, config.internalSecret),
  ]);
  return { ...config, signingSecret: signing, internalSecret: internal };
}

/**
 * Paths that never need a secret while no `ACCESS_CODE` is set: the page and its files (and
 * share-link pages), read with `GET`/`HEAD`. Everything under these prefixes may need one.
 */
const SECRET_PREFIXES = ["/api", "/auth", "/internal", "/webhooks"];

/**
 * Makes the config's generated secrets the Store's before the first request that needs one. With
 * both secrets set in the environment it does nothing (and never touches the Store). Otherwise the
 * first such request reads them from the Store once per process (concurrent first requests share
 * that read; a failed read is retried by the next) and writes them into `config` in place, so
 * every part that reads `config.signingSecret`/`config.internalSecret` at request time sees them.
 * A visit to the page (`GET /`, its files, `/s/…`) without an access code needs none, so a cold
 * process still serves it without reaching the database.
 *
 * @example
 * ```ts
 * app.use(storedSecretsGate(config, store));
 * ```
 */
export function storedSecretsGate(config: Config, store: Store): MiddlewareHandler {
  const fromEnv = config.secretsFromEnv.signing && config.secretsFromEnv.internal;
  let resolving: Promise<void> | null = null;
  let resolved = fromEnv;
  const resolve = () =>
    resolving ??= withStoredSecrets(config, store).then(
      (stored) => {
        config.signingSecret = stored.signingSecret;
        config.internalSecret = stored.internalSecret;
        resolved = true;
      },
      (err) => {
        resolving = null;
        throw err;
      },
    );
  return async function storedSecretsMiddleware(c, next) {
    if (!resolved && needsSecret(c, config)) await resolve();
    await next();
  };
}

function needsSecret(c: Context, config: Config): boolean {
  if (config.accessCode !== null) return true;
  if (c.req.method !== "GET" && c.req.method !== "HEAD") return true;
  return underPrefix(c.req.path, SECRET_PREFIXES);
}

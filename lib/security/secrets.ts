/**
 * The val's own secrets when the environment sets none: `SIGNING_SECRET` (tickets, cookies,
 * pseudonyms) and `INTERNAL_SECRET` (self-invoked requests). They are never derived from
 * `OPENAI_API_KEY` — that key may be public (the emulator's `sk-emulator-local`), and a secret
 * derived from it would be too. Instead each is 256 random bits, stored once in the Store's
 * `app_settings` (`INSERT OR IGNORE`, then read back), so every process of the val — and the next
 * start — uses the same one.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Store } from "../store/types.ts";

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

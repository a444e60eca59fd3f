/**
 * Bearer-token checks: the configured standard key and ephemeral `ek_…` keys.
 *
 * @module
 */
import type { EmulatorState, SecretRecord } from "./state.ts";

/** The result of checking a key. */
export type KeyCheck =
  | { kind: "standard" }
  | { kind: "ephemeral"; secret: SecretRecord }
  | { kind: "expired" }
  | { kind: "invalid"; key: string | null };

/** The bearer token of a request, or null. */
export function bearer(headers: Headers): string | null {
  const h = headers.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? m[1] : null;
}

/** Classifies a key against the emulator's standard key and live client secrets. */
export function checkKey(state: EmulatorState, key: string | null): KeyCheck {
  if (!key) return { kind: "invalid", key };
  if (key === state.options.apiKey) return { kind: "standard" };
  const secret = state.secrets.get(key);
  if (!secret) return { kind: "invalid", key };
  if (secret.expiresAt <= Date.now() / 1000) return { kind: "expired" };
  return { kind: "ephemeral", secret };
}

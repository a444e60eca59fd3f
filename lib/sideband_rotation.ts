/**
 * The sideband rotation policy. On platforms that cap a request's life (Val Town), the request
 * that runs a sideband would be cut off while the call goes on: shortly before the cap a fresh
 * self-invoked request takes the call over (its sideband opens first, then the old one is
 * aborted and its request returns). Locally there is no cap and nothing rotates.
 *
 * @module
 */
import type { Logger } from "./deps.ts";
import { type SidebandRegistry, startSidebandInBackground } from "./sideband_registry.ts";

/** Time after which a sideband hands over: before the cap by a quarter of it, at most 10 s. */
export function rotationDelayMs(limitSeconds: number): number {
  return Math.max(
    1000,
    (limitSeconds - Math.min(10, limitSeconds * 0.25)) * 1000,
  );
}

/** Options for {@linkcode scheduleRotation}. */
export interface RotationOptions {
  /** `config.platformRequestLimitSeconds`; null: no cap, no rotation. */
  limitSeconds: number | null;
  /** This request joined a sideband another request runs: that one rotates, not this. */
  joined: boolean;
  /** Where the app reaches itself; null skips the hand-over. */
  origin: () => string | null;
  sessionId: string;
  callId: string;
  internalSecret: string;
  registry: SidebandRegistry;
  fetch: typeof fetch;
  log: Logger;
}

/**
 * Starts the hand-over timer for the sideband this request runs. Returns the function that
 * cancels it (call it when the sideband ends).
 */
export function scheduleRotation(options: RotationOptions): () => void {
  const { limitSeconds } = options;
  if (limitSeconds === null || options.joined) return () => {};
  const timer = setTimeout(() => {
    const origin = options.origin();
    if (origin === null) return;
    options.log("info", "Rotating the sideband before the request limit", {
      sessionId: options.sessionId,
      callId: options.callId,
    });
    startSidebandInBackground({
      origin,
      sessionId: options.sessionId,
      callId: options.callId,
      internalSecret: options.internalSecret,
      registry: options.registry,
      fetch: options.fetch,
      log: options.log,
      rotate: true,
    });
  }, rotationDelayMs(limitSeconds));
  return () => clearTimeout(timer);
}

/**
 * The sidebands running in this process ({@linkcode SidebandRegistry}: start, rotate, shutdown)
 * and {@linkcode startSidebandInBackground}, the self-invoked hand-off that lets a request await a
 * sideband's whole life (Val Town's early-return pattern).
 *
 * @module
 */
import type { Logger } from "./deps.ts";
import type { SidebandOptions, SidebandResult } from "./sideband.ts";
import { CALL_ID_PATTERN } from "./upstream.ts";
import { loadLater } from "./load_later.ts";

// Loaded with the first sideband: it brings the session schemas (zod), which `/` never needs.
const loadSideband = loadLater<typeof import("./sideband.ts")>(
  new URL("./sideband.ts", import.meta.url),
);

/** A sideband run tracked by the registry. */
export interface RunningSideband {
  sessionId: string;
  callId: string;
  startedAt: number;
  controller: AbortController;
  done: Promise<SidebandResult>;
}

/** The sidebands running in this process, keyed by call id, plus pending background hand-offs. */
export class SidebandRegistry {
  #running = new Map<string, RunningSideband>();
  #background = new Set<Promise<unknown>>();
  #closed = false;

  /** Starts `runSideband` for a call unless one is already running; returns the run. */
  start(options: Omit<SidebandOptions, "signal">): RunningSideband {
    const existing = this.#running.get(options.callId);
    if (existing) return existing;
    return this.#launch(options);
  }

  /**
   * Replaces a call's run (rotation before a platform request limit): the new socket opens
   * first, then the previous run is aborted. Events both sockets saw are stored once (the Store
   * is idempotent by `event_id`).
   */
  rotate(options: Omit<SidebandOptions, "signal">): RunningSideband {
    const previous = this.#running.get(options.callId);
    return this.#launch({
      ...options,
      onOpen: () => {
        options.onOpen?.();
        previous?.controller.abort();
      },
    });
  }

  #launch(options: Omit<SidebandOptions, "signal">): RunningSideband {
    const controller = new AbortController();
    // After shutdown nothing new may start (a late webhook or self-invoke would keep it waiting).
    if (this.#closed) controller.abort();
    const done = loadSideband().then(({ runSideband }) =>
      runSideband({ ...options, signal: controller.signal })
    );
    const run: RunningSideband = {
      sessionId: options.sessionId,
      callId: options.callId,
      startedAt: Date.now(),
      controller,
      done,
    };
    this.#running.set(options.callId, run);
    done.finally(() => {
      if (this.#running.get(options.callId) === run) {
        this.#running.delete(options.callId);
      }
    });
    return run;
  }

  /** The run for a call, if any. */
  get(callId: string): RunningSideband | undefined {
    return this.#running.get(callId);
  }

  /** Every running sideband. */
  list(): RunningSideband[] {
    return [...this.#running.values()];
  }

  /** Keeps a handle on background work (e.g. a self-invoked request) until it settles. */
  track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    promise.finally(() => this.#background.delete(promise)).catch(() => {});
  }

  /** Aborts every running sideband (calls keep going) and waits for them and background work. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const run of this.#running.values()) run.controller.abort();
    await Promise.allSettled([
      ...[...this.#running.values()].map((r) => r.done),
      ...this.#background,
    ]);
  }
}

/** Options for {@linkcode startSidebandInBackground}. */
export interface BackgroundSidebandOptions {
  /** This server's public origin (`new URL(c.req.url).origin`). */
  origin: string;
  sessionId: string;
  callId: string;
  /** `config.internalSecret`, sent as the `x-internal-secret` header. */
  internalSecret: string;
  registry: SidebandRegistry;
  fetch?: typeof fetch;
  log?: Logger;
  /** Replace the call's running sideband (see {@linkcode SidebandRegistry.rotate}). */
  rotate?: boolean;
}

/** Header carrying the internal secret on self-invoked requests. */
export const INTERNAL_SECRET_HEADER = "x-internal-secret";

/**
 * Starts the sideband for `(sessionId, callId)` in the background and returns at once. It makes a
 * self-invoked `POST {origin}/internal/sideband/{callId}` (internal secret header) whose handler
 * awaits the sideband's whole life, so the platform keeps the process alive (Val Town's
 * early-return pattern). The request is tracked in `registry` and failures are logged. The
 * session must exist in the Store with its `settings`; the SIP webhook uses this too.
 */
export function startSidebandInBackground(
  options: BackgroundSidebandOptions,
): void {
  const log = options.log ?? (() => {});
  const doFetch = options.fetch ?? fetch;
  if (!CALL_ID_PATTERN.test(options.callId)) {
    throw new TypeError(
      `Cannot start a sideband for "${options.callId}": not a call id`,
    );
  }
  const work = (async () => {
    try {
      const res = await doFetch(
        `${options.origin}/internal/sideband/${options.callId}`,
        {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            [INTERNAL_SECRET_HEADER]: options.internalSecret,
          },
          body: JSON.stringify({
            sessionId: options.sessionId,
            ...(options.rotate ? { rotate: true } : {}),
          }),
        },
      );
      const text = await res.text();
      if (!res.ok) {
        log("error", "Self-invoked sideband request failed", {
          callId: options.callId,
          status: res.status,
          body: text.slice(0, 300),
        });
      }
    } catch (err) {
      log("error", "Cannot self-invoke the sideband request", {
        callId: options.callId,
        error: String((err as Error)?.message ?? err),
      });
    }
  })();
  options.registry.track(work);
}

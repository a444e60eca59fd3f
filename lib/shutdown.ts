/**
 * Graceful shutdown for the local server (`start.ts`; Val Town sends no signals). On SIGTERM or
 * SIGINT: every running sideband is stopped (the calls keep going at OpenAI) after its pending
 * Store writes are flushed, the sessions they recorded are marked ended with
 * `server_shutdown`, the HTTP server finishes its open requests (bounded: SSE streams would
 * otherwise hold it forever), the Store closes, and the process exits 0. A hard deadline exits
 * 1 if any step hangs.
 *
 * @module
 */
import type { Logger } from "./deps.ts";
import type { SidebandRegistry } from "./sideband_registry.ts";
import type { Store } from "./store/types.ts";

/** Options for {@linkcode gracefulShutdown}. */
export interface ShutdownOptions {
  sidebands: SidebandRegistry;
  store: Store;
  /** The HTTP server (`Deno.serve`'s result); its open requests get `serverGraceMs`. */
  server?: { shutdown(): Promise<void> };
  log?: Logger;
  /** Longest wait for open HTTP requests (SSE streams) to finish, ms (default 2000). */
  serverGraceMs?: number;
  /** Runs after the Store is closed (e.g. stopping the embedded emulator). */
  onClosed?: () => Promise<void>;
}

/** What {@linkcode gracefulShutdown} did. */
export interface ShutdownReport {
  /** Sidebands that were running and were stopped after flushing. */
  sidebands: number;
  /** Sessions marked ended with `server_shutdown`. */
  sessionsEnded: number;
  /** Whether open HTTP requests finished within the grace period. */
  serverDrained: boolean;
}

/** The `endReason` of sessions whose recording stopped because the server stopped. */
export const SHUTDOWN_END_REASON = "server_shutdown";

/**
 * Stops everything in order without losing recorded events: sidebands first (each awaits its
 * queued Store writes), then the sessions' status, then the HTTP server, then the Store.
 */
export async function gracefulShutdown(
  options: ShutdownOptions,
): Promise<ShutdownReport> {
  const log = options.log ?? (() => {});
  const running = options.sidebands.list();
  log("info", "Shutting down", { sidebands: running.length });
  // Aborting a run closes its socket; its `done` resolves only after its writes are flushed.
  await options.sidebands.shutdown();
  let sessionsEnded = 0;
  for (const run of running) {
    const result = await run.done;
    if (result.callEnded) continue; // the call ended on its own: keep its real reason
    try {
      const row = await options.store.getSession(run.sessionId);
      if (row && (row.status === "live" || row.status === "pending")) {
        await options.store.updateSession(run.sessionId, {
          status: "ended",
          endedAt: Date.now(),
          endReason: SHUTDOWN_END_REASON,
        });
        sessionsEnded++;
      }
    } catch (err) {
      log("error", "Cannot mark a session ended at shutdown", {
        sessionId: run.sessionId,
        error: String(err),
      });
    }
  }
  let serverDrained = true;
  if (options.server) {
    const grace = options.serverGraceMs ?? 2000;
    let timer: number | undefined;
    serverDrained = await Promise.race([
      options.server.shutdown().then(() => true, () => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), grace);
      }),
    ]);
    clearTimeout(timer);
    if (!serverDrained) {
      log("warn", "Open requests did not finish in time; closing anyway", {
        graceMs: grace,
      });
    }
  }
  await options.store.close();
  await options.onClosed?.();
  log("info", "Shut down", {
    sidebands: running.length,
    sessionsEnded,
    serverDrained,
  });
  return { sidebands: running.length, sessionsEnded, serverDrained };
}

/** Options for {@linkcode installShutdownHandler}. */
export interface ShutdownHandlerOptions extends ShutdownOptions {
  /** Signals to handle (default SIGINT, and SIGTERM where the OS has it). */
  signals?: Deno.Signal[];
  /** Exits the process (default `Deno.exit`); tests pass a recorder. */
  exit?: (code: number) => void;
  /** Exit 1 if shutting down takes longer than this, ms (default 10 000). */
  deadlineMs?: number;
}

/**
 * Installs signal listeners that run {@linkcode gracefulShutdown} once and exit 0 (1 on
 * failure or after the deadline). Returns the shutdown function (idempotent) and a remover.
 */
export function installShutdownHandler(
  options: ShutdownHandlerOptions,
): { shutdown: () => Promise<void>; remove: () => void } {
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const signals = options.signals ??
    (Deno.build.os === "windows" ? ["SIGINT" as const] : ["SIGINT" as const, "SIGTERM" as const]);
  let running: Promise<void> | null = null;
  const shutdown = () => {
    running ??= (async () => {
      const deadline = setTimeout(() => {
        options.log?.("error", "Shutdown took too long; exiting");
        exit(1);
      }, options.deadlineMs ?? 10_000);
      let code = 0;
      try {
        await gracefulShutdown(options);
      } catch (err) {
        code = 1;
        options.log?.("error", "Shutdown failed", { error: String(err) });
      } finally {
        clearTimeout(deadline);
      }
      exit(code);
    })();
    return running;
  };
  const onSignal = () => void shutdown();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  return {
    shutdown,
    remove: () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
    },
  };
}

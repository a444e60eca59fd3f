/**
 * The sideband: the server's own WebSocket to a live Realtime call
 * (`{wss base}/v1/realtime?call_id=…`, standard key in `Authorization`). It pushes the
 * server-private `session.update`, records every server event in the Store (the source of truth),
 * keeps the session's status, and enforces `MAX_SESSION_SECONDS` by hanging the call up.
 *
 * {@linkcode runSideband} runs one connection to its end and is what a request awaits (Val Town's
 * early-return pattern, see `routes/internal.ts`). {@linkcode SidebandRegistry} tracks the running
 * ones in this process (tests, graceful shutdown, and later rotation/reconnect, which can call
 * `runSideband` again for the same call with a fresh `AbortSignal`).
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { Store } from "./store/types.ts";
import type { Logger } from "../app.ts";
import { chargeSessionUsage } from "./security/limits.ts";
import { buildTranscriptionSession, type SessionSettings } from "./session_config.ts";
import { CALL_ID_PATTERN, redactSecrets, type UpstreamClient } from "./upstream.ts";

/** Opens an outbound WebSocket with headers. */
export type ConnectWebSocket = (
  url: string,
  headers: Record<string, string>,
) => WebSocket;

/** Default {@linkcode ConnectWebSocket}: Deno's `new WebSocket(url, { headers })`. */
export function denoConnectWebSocket(
  url: string,
  headers: Record<string, string>,
): WebSocket {
  // Deno-only options bag: sends the headers on the upgrade request.
  return new WebSocket(url, { headers } as unknown as string[]);
}

/** Options for {@linkcode runSideband}. */
export interface SidebandOptions {
  config: Config;
  store: Store;
  upstream: UpstreamClient;
  /** The Store session this call belongs to. */
  sessionId: string;
  /** The Realtime call id (`rtc_…`). */
  callId: string;
  /** The user's settings (the session's stored `settings`), re-sent with the private ones. */
  settings: SessionSettings;
  connectWebSocket?: ConnectWebSocket;
  log?: Logger;
  /** Stops this connection without ending the call (shutdown, rotation). */
  signal?: AbortSignal;
  /** Hang up after this many seconds; default `config.limits.maxSessionSeconds`. */
  maxSessionSeconds?: number;
  /** When the session started (Unix ms) — a reconnect keeps the original deadline. Default now. */
  startedAt?: number;
  /**
   * Push the private `session.update` on open (default true). False for SIP calls: `/accept`
   * configured their realtime session fully, and it cannot take a transcription-type update.
   */
  sendSessionUpdate?: boolean;
  /** Called once the socket is open (rotation aborts the previous run then). */
  onOpen?: () => void;
}

/** How a sideband run ended. */
export interface SidebandResult {
  sessionId: string;
  callId: string;
  /** `hangup`, `max_duration`, `session_expired`, `aborted`, or `error: …`. */
  endReason: string;
  /** True when the call is over (the session was marked ended or failed). */
  callEnded: boolean;
  /** Server events received (including duplicates the Store ignored). */
  events: number;
}

/** `https://host` → `wss://host`, `http://` → `ws://`. */
export function webSocketBase(baseUrl: string): string {
  return baseUrl.replace(/^http/, "ws");
}

/**
 * Runs one sideband connection until the call ends, the limit hangs it up, or `signal` aborts.
 * Never rejects: failures come back as `endReason: "error: …"` and a `failed` session.
 */
export function runSideband(options: SidebandOptions): Promise<SidebandResult> {
  const { config, store, sessionId, callId } = options;
  const log = options.log ?? (() => {});
  const connect = options.connectWebSocket ?? denoConnectWebSocket;
  const startedAt = options.startedAt ?? Date.now();
  const maxMs = (options.maxSessionSeconds ?? config.limits.maxSessionSeconds) *
    1000;
  if (!CALL_ID_PATTERN.test(callId)) {
    return Promise.resolve({
      sessionId,
      callId,
      endReason: "error: invalid call id",
      callEnded: false,
      events: 0,
    });
  }

  return new Promise<SidebandResult>((resolve) => {
    let endReason: string | null = null;
    let opened = false;
    let events = 0;
    let finished = false;
    // Events are written one after another so the Store sees them in arrival order.
    let writes: Promise<unknown> = Promise.resolve();
    const timers: number[] = [];
    let onAbort = () => {};

    const url = `${webSocketBase(config.openaiBaseUrl)}/v1/realtime?call_id=${callId}`;
    let ws: WebSocket;
    try {
      ws = connect(url, {
        Authorization: `Bearer ${config.openaiApiKey ?? ""}`,
      });
    } catch (err) {
      endReason = `error: cannot open the sideband: ${String((err as Error)?.message ?? err)}`;
      void finish();
      return;
    }

    function closeSoon(reason: string, graceMs: number) {
      endReason ??= reason;
      // After finish() cleared the timers, a late caller (a hang-up answering after the close)
      // must not start one that nobody clears.
      if (finished) return;
      timers.push(setTimeout(() => {
        if (ws.readyState !== WebSocket.CLOSED) ws.close(1000, "done");
      }, graceMs));
    }

    onAbort = () => {
      endReason ??= "aborted";
      ws.close(1000, "aborted");
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const remaining = Math.max(0, maxMs - (Date.now() - startedAt));
    timers.push(setTimeout(() => {
      endReason ??= "max_duration";
      log("info", "Session hit its maximum duration; hanging up", {
        sessionId,
        callId,
      });
      options.upstream.hangup(callId).catch((err) =>
        log("warn", "Hang-up at maximum duration failed", {
          callId,
          error: String(err?.message ?? err),
        })
      ).finally(() => closeSoon("max_duration", 5000));
    }, remaining));

    ws.onopen = () => {
      opened = true;
      log("info", "Sideband connected", { sessionId, callId });
      options.onOpen?.();
      if (options.sendSessionUpdate !== false) {
        const session = buildTranscriptionSession(options.settings, {
          privatePrompt: config.privatePrompt,
        });
        ws.send(
          JSON.stringify({
            type: "session.update",
            event_id: "sideband_update",
            session,
          }),
        );
      }
      writes = writes.then(() =>
        store.updateSession(sessionId, { status: "live", startedAt, callId })
      ).catch((err) =>
        log("error", "Cannot mark the session live", {
          sessionId,
          error: String(err),
        })
      );
    };

    ws.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(msg.data);
      } catch {
        log("warn", "Sideband sent a frame that is not JSON", { callId });
        return;
      }
      if (
        typeof event !== "object" || event === null ||
        typeof event.type !== "string"
      ) return;
      events++;
      writes = writes.then(() => store.recordEvent(sessionId, event)).catch((
        err,
      ) =>
        log("error", "Cannot record an event", {
          sessionId,
          type: event.type,
          error: String(err),
        })
      );
      if (event.type === "error") {
        const error = event.error as
          | { code?: string; message?: string }
          | undefined;
        if (error?.code === "session_expired") endReason ??= "session_expired";
        log("warn", "Realtime error event", {
          callId,
          code: error?.code,
          message: redactSecrets(String(error?.message ?? "")),
        });
      }
    };

    ws.onerror = () => {
      // The close event follows; the reason is decided there.
    };

    ws.onclose = (ev) => {
      if (!opened && endReason === null) {
        endReason = `error: sideband closed before it opened (code ${ev.code})`;
      }
      void finish();
    };

    async function finish() {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener("abort", onAbort);
      const reason = endReason ?? "hangup";
      const aborted = reason === "aborted";
      await writes;
      if (!aborted) {
        try {
          const current = await store.getSession(sessionId);
          // A replacement socket that never opened must not overwrite how the call really ended.
          if (opened && current && current.callId !== callId) {
            // issue #8: the page moved this session to another call (reconnect / rotation):
            // this call's end is not the session's end.
            log("info", "Call ended; its session continues on another call", {
              sessionId,
              callId,
            });
          } else if (!opened && current?.status === "ended") {
            log("info", "Sideband not opened; the session had already ended", {
              sessionId,
              callId,
            });
          } else {
            await store.updateSession(sessionId, {
              status: reason.startsWith("error") ? "failed" : "ended",
              endedAt: Date.now(),
              endReason: reason,
            });
            // Charge the daily minutes budget once, by whoever ends the session.
            if (current?.startedAt && current.status !== "ended" && current.status !== "failed") {
              await chargeSessionUsage(store, { sessionId, startedAt: current.startedAt });
            }
          }
        } catch (err) {
          log("error", "Cannot mark the session ended", {
            sessionId,
            error: String(err),
          });
        }
      }
      log("info", "Sideband ended", {
        sessionId,
        callId,
        endReason: reason,
        events,
      });
      resolve({
        sessionId,
        callId,
        endReason: reason,
        callEnded: !aborted,
        events,
      });
    }
  });
}

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
    const done = runSideband({ ...options, signal: controller.signal });
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

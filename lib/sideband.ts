/**
 * The sideband: the server's own WebSocket to a live Realtime call
 * (`{wss base}/v1/realtime?call_id=…`, standard key in `Authorization`). It pushes the
 * server-private `session.update`, records every server event in the Store (the source of truth),
 * keeps the session's status, and enforces `MAX_SESSION_SECONDS` by hanging the call up.
 *
 * {@linkcode runSideband} runs one connection to its end and is what a request awaits (Val Town's
 * early-return pattern, see `routes/internal.ts`). `lib/sideband_registry.ts` tracks the running
 * ones in this process and starts them in the background.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { Store } from "./store/types.ts";
import type { Logger } from "./deps.ts";
import { chargeSessionUsage } from "./security/limits.ts";
import { buildTranscriptionSession, type SessionSettings } from "./session_config.ts";
import { CALL_ID_PATTERN, redactSecrets, type UpstreamClient } from "./upstream.ts";
import { createSelfHeal, type UpdateParts } from "./self_heal.ts";
import { type ConnectWebSocket, denoConnectWebSocket } from "./reconnecting_socket.ts";

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

    // Options OpenAI refused earlier stay out of the update; a refused one is retried once without
    // the option it names (lib/self_heal.ts). The rules are read while the socket connects.
    const heal = createSelfHeal({ store, log });
    let update: Promise<UpdateParts> = options.sendSessionUpdate === false
      ? Promise.resolve({ settings: options.settings, privatePrompt: null })
      : heal.planUpdate({ settings: options.settings, privatePrompt: config.privatePrompt });
    let updateHealed = false;
    const pushUpdate = (parts: UpdateParts) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const session = buildTranscriptionSession(parts.settings, {
        privatePrompt: parts.privatePrompt,
      });
      ws.send(JSON.stringify({ type: "session.update", event_id: "sideband_update", session }));
    };

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
      if (options.sendSessionUpdate !== false) void update.then(pushUpdate);
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
      // The call id places the event's audio times on the session's clock (lib/store/types.ts).
      writes = writes.then(() => store.recordEvent(sessionId, event, { callId })).catch((
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
        if (!updateHealed && (error as { event_id?: unknown })?.event_id === "sideband_update") {
          updateHealed = true;
          const refused = update;
          update = refused.then(async (parts) => {
            const next = await heal.healUpdate(event.error, parts);
            if (next) pushUpdate(next);
            return next ?? parts;
          });
        }
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
            // The page moved this session to another call (reconnect / rotation):
            // this call's end is not the session's end.
            log("info", "Call ended; its session continues on another call", {
              sessionId,
              callId,
            });
            await store.releaseCall(callId);
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

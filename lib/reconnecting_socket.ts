/**
 * Keeps a call's sideband recording alive through unexpected drops.
 *
 * {@linkcode reconnectingConnect} wraps a {@linkcode ConnectWebSocket} so the socket that
 * `runSideband` (`lib/sideband.ts`) sees survives drops: when the Realtime API closes the
 * connection for any reason other than the end of the call, a fresh `?call_id=` connection is
 * opened after a backoff with full jitter, and `runSideband` keeps recording into the same Store
 * session as if nothing happened. Events both connections saw are stored once (the Store is
 * idempotent by `event_id`); events sent while no connection was attached are filled in by the
 * page's gap-repair report (`POST /api/sessions/:id/utterances`).
 *
 * What ends the socket for good (then `runSideband` sees one `close` and ends the session):
 * - our own `close()` (hang-up at the maximum duration, rotation, shutdown);
 * - a normal closure (code 1000: the call was hung up or `session.close`);
 * - an `error` event with code `session_expired` (the 60-minute limit) before the close;
 * - `attempts` reconnects in a row that never opened (the call is gone: 404 `call_id_not_found`).
 *
 * Proactive rotation before the platform's per-request limit is the other half of survival and
 * lives in `routes/internal.ts` (a fresh self-invoked request opens a new sideband, then the old
 * one closes); it composes with this wrapper because every run gets its own reconnecting socket.
 *
 * @module
 */
import type { Logger } from "./deps.ts";
import { backoffDelay, type BackoffOptions } from "./retry.ts";

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

/** Options for {@linkcode reconnectingConnect}. */
export interface ReconnectOptions extends BackoffOptions {
  /** The real connector (default in the app: Deno's `new WebSocket(url, { headers })`). */
  connect: ConnectWebSocket;
  /** Failed connection attempts in a row before giving up (default 6). */
  attempts?: number;
  /**
   * A connection must stay open this long, ms, before a drop starts the failure count again
   * (default 1000); shorter-lived ones count as failed attempts, so a flapping socket gives up.
   */
  stableMs?: number;
  log?: Logger;
  /** Told after each successful reconnect (tests and metrics). */
  onReconnect?: (info: ReconnectInfo) => void;
}

/** One successful reconnect. */
export interface ReconnectInfo {
  /** The call id from the URL (never the key). */
  callId: string | null;
  /** Attempts it took (1 = the first try worked). */
  attempts: number;
  /** Milliseconds without a connection. */
  downMs: number;
  /** Close code of the connection that dropped. */
  code: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Close codes after which the call is over: no reconnect. */
const FINAL_CODES = new Set([1000]);

/**
 * Wraps `options.connect`: the returned connector makes sockets that reconnect after unexpected
 * drops. Install it as `AppDeps.connectWebSocket` (or pass it to `runSideband`).
 *
 * @example
 * ```ts
 * const connect = reconnectingConnect({ connect: denoConnectWebSocket, log });
 * const app = createApp({ ...deps, connectWebSocket: connect });
 * ```
 */
export function reconnectingConnect(
  options: ReconnectOptions,
): ConnectWebSocket {
  return (url, headers) => new ReconnectingSocket(url, headers, options) as unknown as WebSocket;
}

/**
 * The subset of `WebSocket` that `runSideband` uses (`on*` handlers, `readyState`, `send`,
 * `close`), backed by a sequence of real sockets.
 */
export class ReconnectingSocket {
  /** Fired once, when the first connection opens. */
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  /** Fired only when the socket gives up (before the final `close`). */
  onerror: ((ev: Event) => void) | null = null;
  /** Fired once, when the socket is closed for good. */
  onclose: ((ev: CloseEvent) => void) | null = null;
  readonly url: string;

  #headers: Record<string, string>;
  #options: ReconnectOptions;
  #state = CONNECTING;
  #ws: WebSocket | null = null;
  #everOpened = false;
  #closedByUs = false;
  #expired = false;
  #failures = 0;
  #downSince = 0;
  #lastCode = 0;
  #timer: number | undefined;
  #callId: string | null;

  constructor(
    url: string,
    headers: Record<string, string>,
    options: ReconnectOptions,
  ) {
    this.url = url;
    this.#headers = headers;
    this.#options = options;
    this.#callId = new URL(url).searchParams.get("call_id");
    // After the caller has set its handlers, so even a connector that throws is reported.
    queueMicrotask(() => {
      if (!this.#closedByUs) this.#open();
    });
  }

  /** `CONNECTING` until the first open, `OPEN` through reconnects, then `CLOSING`/`CLOSED`. */
  get readyState(): number {
    return this.#state;
  }

  /** Sends on the current connection; dropped (and logged) while reconnecting. */
  send(data: string): void {
    if (this.#ws?.readyState === OPEN) this.#ws.send(data);
    else {
      this.#log("warn", "Sideband message not sent: reconnecting", {
        callId: this.#callId,
      });
    }
  }

  /** Closes for good: no reconnect after this. */
  close(code = 1000, reason = ""): void {
    this.#closedByUs = true;
    if (this.#state === CLOSED || this.#state === CLOSING) return;
    this.#state = CLOSING;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    if (ws && ws.readyState < CLOSING) {
      try {
        ws.close(code, reason);
        return; // its close event finishes us
      } catch {
        // fall through
      }
    }
    if (ws && ws.readyState === CLOSING) return;
    this.#finish(code, reason);
  }

  #log(
    level: "info" | "warn",
    message: string,
    fields: Record<string, unknown>,
  ) {
    this.#options.log?.(level, message, fields);
  }

  #open() {
    let ws: WebSocket;
    try {
      ws = this.#options.connect(this.url, this.#headers);
    } catch (err) {
      this.#lastCode = 1006;
      this.#failed(String((err as Error)?.message ?? err));
      return;
    }
    this.#ws = ws;
    let opened = false;
    let openedAt = 0;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      openedAt = Date.now();
      const attempts = this.#failures + 1;
      if (this.#closedByUs) {
        ws.close(1000, "closed");
        return;
      }
      if (!this.#everOpened) {
        this.#everOpened = true;
        this.#state = OPEN;
        this.onopen?.(new Event("open"));
        return;
      }
      const info: ReconnectInfo = {
        callId: this.#callId,
        attempts,
        downMs: Date.now() - this.#downSince,
        code: this.#lastCode,
      };
      this.#log("info", "Sideband reconnected", { ...info });
      this.#options.onReconnect?.(info);
    };
    ws.onmessage = (msg) => {
      if (this.#ws !== ws) return;
      if (
        typeof msg.data === "string" && msg.data.includes("session_expired")
      ) {
        try {
          const ev = JSON.parse(msg.data);
          if (ev?.type === "error" && ev.error?.code === "session_expired") {
            this.#expired = true;
          }
        } catch { /* not JSON: runSideband reports it */ }
      }
      this.onmessage?.(msg);
    };
    ws.onerror = () => {
      // The close event follows and decides.
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#lastCode = ev.code;
      if (
        this.#closedByUs || this.#expired || FINAL_CODES.has(ev.code) ||
        this.#state === CLOSED
      ) {
        this.#finish(ev.code, ev.reason);
        return;
      }
      if (opened && Date.now() - openedAt >= (this.#options.stableMs ?? 1000)) {
        // A connection that held is a fresh start: the failure count begins again.
        this.#failures = 0;
        this.#downSince = Date.now();
        this.#log("warn", "Sideband dropped; reconnecting", {
          callId: this.#callId,
          code: ev.code,
          reason: ev.reason.slice(0, 120),
        });
        this.#schedule();
      } else if (opened) {
        // Dropped right after opening: counts as a failed attempt, so flapping ends.
        this.#downSince = Date.now();
        this.#failed(`dropped ${Date.now() - openedAt} ms after opening (code ${ev.code})`);
      } else {
        this.#failed(`closed before it opened (code ${ev.code})`);
      }
    };
  }

  /** A connection attempt that never opened. */
  #failed(why: string) {
    this.#failures++;
    const attempts = this.#options.attempts ?? 6;
    if (this.#closedByUs) return this.#finish(1000, "closed");
    if (this.#failures >= attempts) {
      this.#log("warn", "Sideband gave up reconnecting", {
        callId: this.#callId,
        attempts: this.#failures,
        why,
      });
      this.onerror?.(new Event("error"));
      this.#finish(this.#lastCode || 1006, why);
      return;
    }
    if (!this.#everOpened && this.#failures === 1) this.#downSince = Date.now();
    this.#schedule();
  }

  #schedule() {
    const delay = backoffDelay(this.#failures, {
      baseDelayMs: this.#options.baseDelayMs ?? 200,
      maxDelayMs: this.#options.maxDelayMs ?? 5000,
      random: this.#options.random,
    });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#closedByUs) return this.#finish(1000, "closed");
      this.#open();
    }, delay);
  }

  #finish(code: number, reason: string) {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    clearTimeout(this.#timer);
    // Dispatched like a real close event: never inside the caller's `close()` (which may run
    // before the caller has set `onclose`).
    queueMicrotask(() =>
      this.onclose?.(
        new CloseEvent("close", { code, reason, wasClean: code === 1000 }),
      )
    );
  }
}

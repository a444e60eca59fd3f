/**
 * A loopback stand-in for "a WebRTC call with live audio", so the app's real sideband can be put
 * under load without a browser per session. The emulator attaches sidebands only to WebRTC and SIP
 * calls, and real WebRTC audio for 200 sessions would need 200 Opus encoders; so:
 *
 * - the driver opens `?intent=transcription` sessions on the emulator and streams speech into them;
 * - each is registered here under a made-up call id (`rtc_bench_…`);
 * - the app is pointed at this relay as its OpenAI base URL: its sideband
 *   (`/v1/realtime?call_id=rtc_bench_…`) is piped to the driver's session — every server event the
 *   emulator emits from then on, byte for byte, and the sideband's own `session.update` back;
 * - every other REST request is proxied to the emulator unchanged (`client_secrets` and so on);
 *   `hangup` of a relayed call closes its sideband like the real API does.
 *
 * The app's process therefore does exactly what it does in production (REST mint, ticketed
 * sideband start, one WebSocket of events per call, Store writes); the relay's cost lands in the
 * benchmark process, not in the app's.
 *
 * @module
 */
import type { AudioSession } from "./ws_audio.ts";

/** A running relay. */
export interface Relay {
  baseUrl: string;
  /** Registers `session` as call `callId`; resolves once a sideband is attached and configured. */
  register: (callId: string, session: AudioSession) => Promise<void>;
  /** Closes the sideband sockets of every relayed call (the call "ends"). */
  endAll: () => void;
  close: () => Promise<void>;
}

interface Relayed {
  session: AudioSession;
  sockets: Set<WebSocket>;
  configured: () => void;
}

/** Starts the relay in front of the emulator at `emulatorBaseUrl`. */
export async function startRelay(emulatorBaseUrl: string): Promise<Relay> {
  const calls = new Map<string, Relayed>();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
  }, async (req) => {
    const url = new URL(req.url);
    const callId = url.searchParams.get("call_id");
    if (url.pathname === "/v1/realtime" && callId !== null) {
      const call = calls.get(callId);
      if (!call || req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return Response.json({
          error: {
            message: "No session found for the provided call_id",
            type: "invalid_request_error",
            code: "call_id_not_found",
            param: "",
          },
        }, { status: 404 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      call.sockets.add(socket);
      socket.onopen = () => {
        call.session.forward = (text) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(text);
          if (text.includes('"session.updated"')) call.configured();
        };
      };
      socket.onmessage = (m) => {
        if (typeof m.data === "string") call.session.send(m.data);
      };
      socket.onclose = () => {
        call.sockets.delete(socket);
        if (call.sockets.size === 0) call.session.forward = null;
      };
      return response;
    }
    const hangup = /^\/v1\/realtime\/calls\/(rtc_bench_[A-Za-z0-9_]+)\/hangup$/
      .exec(url.pathname);
    if (hangup) {
      const call = calls.get(hangup[1]);
      if (!call) {
        return Response.json({ error: { code: "not_found" } }, { status: 404 });
      }
      for (const s of call.sockets) s.close(1000, "");
      calls.delete(hangup[1]);
      return new Response(null, { status: 200 });
    }
    // Everything else goes to the emulator as is.
    const upstream = await fetch(emulatorBaseUrl + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: upstream.headers,
    });
  });
  const addr = await listening;
  const endAll = () => {
    for (const call of calls.values()) {
      for (const s of call.sockets) s.close(1000, "");
      call.session.forward = null;
    }
    calls.clear();
  };
  return {
    baseUrl: `http://127.0.0.1:${addr.port}`,
    register(callId, session) {
      const { promise, resolve: configured } = Promise.withResolvers<void>();
      calls.set(callId, { session, sockets: new Set(), configured });
      return promise;
    },
    endAll,
    async close() {
      endAll();
      await server.shutdown();
    },
  };
}

/**
 * Request routing of the emulator (a plain `Deno.serve` handler).
 *
 * @module
 */
import { ApiError, errorResponse } from "./errors.ts";
import { handleControl } from "./control.ts";
import { handleRealtimeSocket } from "./realtime_socket.ts";
import { callAction, corsHeaders, createCall, createClientSecret } from "./rest.ts";
import type { EmulatorState } from "./state.ts";
import { requestId } from "./ids.ts";
import { routeTranslations } from "./translation_routes.ts";

/**
 * Adds `x-request-id` (`req_<32 hex>`) to an HTTP answer, as the live API does on every REST
 * answer (OpenAI's SDK reads it into `requestID`); WebSocket upgrades are left alone. Answers
 * outside the control API are listed for `GET /_emulator/requests`.
 */
function withRequestId(req: Request, res: Response, state: EmulatorState): Response {
  if (res.status === 101) return res;
  const id = requestId();
  const path = new URL(req.url).pathname.replace(/\/+$/, "") || "/";
  if (!path.startsWith("/_emulator/")) {
    state.recordRequest({
      method: req.method,
      path,
      status: res.status,
      requestId: id,
      at: Date.now(),
    });
  }
  try {
    res.headers.set("x-request-id", id);
    return res;
  } catch {
    // Immutable headers: copy the answer.
    const headers = new Headers(res.headers);
    headers.set("x-request-id", id);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

/** Builds the request handler for a state. */
export function createHandler(
  state: EmulatorState,
): (req: Request) => Promise<Response> {
  const route = routeRequest(state);
  return async (req) => withRequestId(req, await route(req), state);
}

function routeRequest(
  state: EmulatorState,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (state.options.verbose) {
      console.error(`[emulator] ${req.method} ${path}`);
    }
    try {
      if (path === "/v1/realtime" && req.method === "GET") {
        return await handleRealtimeSocket(req, state);
      }
      if (path === "/v1/realtime/client_secrets" && req.method === "POST") {
        return await createClientSecret(req, state);
      }
      if (path === "/v1/realtime/calls") {
        if (req.method === "OPTIONS") {
          return new Response(null, {
            status: 204,
            headers: corsHeaders(req, state, true),
          });
        }
        if (req.method === "POST") return await createCall(req, state);
      }
      const action = path.match(
        /^\/v1\/realtime\/calls\/([^/]+)\/(hangup|accept|reject|refer)$/,
      );
      if (action) {
        if (req.method === "OPTIONS") {
          return new Response(null, {
            status: 204,
            headers: corsHeaders(req, state, true),
          });
        }
        if (req.method === "POST") {
          return await callAction(req, state, action[1], action[2]);
        }
      }
      const translation = await routeTranslations(req, state, path);
      if (translation) return translation;
      if (path.startsWith("/_emulator/")) {
        const res = await handleControl(req, state, path);
        if (res) return res;
      }
      return errorResponse(
        new ApiError(
          404,
          "not_found",
          `Invalid URL (${req.method} ${url.pathname})`,
        ),
      );
    } catch (e) {
      console.error("[emulator] internal error:", e);
      return errorResponse(
        new ApiError(
          500,
          null,
          `The emulator hit an internal error: ${e instanceof Error ? e.message : e}`,
          null,
          "server_error",
        ),
      );
    }
  };
}

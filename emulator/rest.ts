/**
 * REST endpoints: `POST /v1/realtime/client_secrets`, `POST /v1/realtime/calls` (raw
 * SDP and multipart) with CORS, and the call-control endpoints
 * (`/hangup`, `/accept`, `/reject`, `/refer`).
 *
 * @module
 */
import type { ClientSecretCreateResponse } from "../lib/openai_types.ts";
import {
  ApiError,
  EMPTY_400_BODY,
  errorResponse,
  invalidKeyError,
  jsonResponse,
} from "./errors.ts";
import { bearer, checkKey, type KeyCheck } from "./auth.ts";
import { check, s } from "./validate.ts";
import {
  buildSession,
  defaultSession,
  type EffectiveSession,
  transcriptionModel,
} from "./session_schema.ts";
import * as ids from "./ids.ts";
import type { CallRecord, EmulatorState } from "./state.ts";
import { startWebRtcCall } from "./calls.ts";
import { acceptSipCall } from "./sip.ts";
import type { FaultEndpoint } from "./faults.ts";

function headerAllowed(name: string, allowed: readonly string[]): boolean {
  const n = name.toLowerCase();
  return allowed.some((a) => {
    const rule = a.toLowerCase();
    return rule.endsWith("*") ? n.startsWith(rule.slice(0, -1)) : n === rule;
  });
}

/**
 * CORS headers for `/v1/realtime/calls` and the call endpoints (and their preflight). The
 * preflight allows the requested headers the live API allows (`corsAllowedHeaders`) and leaves
 * out the rest, so a browser refuses a request carrying a header the API refuses.
 */
export function corsHeaders(
  req: Request,
  state: EmulatorState,
  preflight: boolean,
): Headers {
  const h = new Headers();
  h.set("access-control-allow-origin", req.headers.get("origin") ?? "*");
  h.set("vary", "Origin");
  if (preflight) {
    h.set("access-control-allow-methods", "POST, OPTIONS");
    const requested = (req.headers.get("access-control-request-headers") ?? "")
      .split(",").map((x) => x.trim()).filter(Boolean);
    const allowed = requested.filter((x) => headerAllowed(x, state.options.corsAllowedHeaders));
    h.set(
      "access-control-allow-headers",
      allowed.length ? allowed.join(", ") : "Authorization, Content-Type",
    );
    h.set("access-control-max-age", "600");
  } else if (state.faults.exposeLocation) {
    h.set("access-control-expose-headers", "Location");
  }
  return h;
}

/** OpenAI-like default bodies for injected failures without a body. */
function defaultFaultBody(status: number): unknown {
  const e = (message: string, type: string, code: string | null) => ({
    error: { message, type, param: null, code },
  });
  if (status === 400) return EMPTY_400_BODY;
  if (status === 401) {
    return { error: invalidKeyError("sk-injected-fault").toBody() };
  }
  if (status === 429) {
    return e(
      "Rate limit reached for requests. Please try again in 1s.",
      "requests",
      "rate_limit_exceeded",
    );
  }
  if (status === 503) {
    return e(
      "The engine is currently overloaded, please try again later.",
      "server_error",
      null,
    );
  }
  if (status >= 500) {
    return e(
      "The server had an error while processing your request. Sorry about that!",
      "server_error",
      null,
    );
  }
  return e("Injected failure.", "invalid_request_error", null);
}

/** Applies injected latency and queued failures; returns a response when a fault fires. */
export async function applyFaults(
  state: EmulatorState,
  endpoint: FaultEndpoint,
  headers: HeadersInit = {},
): Promise<Response | null> {
  if (state.faults.latencyMs > 0) {
    await new Promise((r) => setTimeout(r, state.faults.latencyMs));
  }
  const f = state.faults.takeRestFailure(endpoint);
  if (!f) return null;
  const body = f.body === "openai_empty_400"
    ? EMPTY_400_BODY
    : f.body ?? defaultFaultBody(f.status);
  const h = new Headers(headers);
  if (f.status === 429) h.set("retry-after", "1");
  return jsonResponse(body, f.status, h);
}

/** Spec of a client secret's `expires_after` (`created_at` + 10–7200 s). */
export const expiresAfterSpec = s.object({
  anchor: s.enum("created_at"),
  seconds: s.int(10, 7200),
});

const clientSecretBody = s.object({
  expires_after: expiresAfterSpec,
  session: s.any(),
});

/** Reads a JSON body (`{}` for an empty one when `optional`); OpenAI's 400 otherwise. */
export async function readJson(req: Request, optional: boolean): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) {
    if (optional) return {};
    throw new ApiError(
      400,
      null,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(
      400,
      null,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
}

/** `POST /v1/realtime/client_secrets`. */
export async function createClientSecret(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  const fault = await applyFaults(state, "client_secrets");
  if (fault) return fault;
  const key = checkKey(state, bearer(req.headers));
  if (key.kind !== "standard") {
    return errorResponse(invalidKeyError(bearer(req.headers)));
  }
  try {
    // deno-lint-ignore no-explicit-any
    const body: any = await readJson(req, true);
    check(clientSecretBody, body, "");
    if (body.session !== undefined) {
      check(
        s.object({ type: s.any() }, ["type"]),
        { type: body.session?.type },
        "session",
      );
    }
    const session = buildSession(
      body.session ?? { type: "realtime" },
      "session.",
      state.schema,
      { source: "client_secret" },
    );
    const value = ids.ephemeralKey();
    const expiresAt = Math.floor(Date.now() / 1000) +
      (body.expires_after?.seconds ?? 600);
    const shown = {
      ...session,
      id: ids.sessionId(),
      expires_at: 0,
    } as EffectiveSession;
    state.secrets.set(value, { value, expiresAt, session: shown });
    const out: ClientSecretCreateResponse = {
      value,
      expires_at: expiresAt,
      session: shown,
    };
    return jsonResponse(out);
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    throw e;
  }
}

/** The 400 for a bad offer (descriptive, or OpenAI's all-empty one with `emptyBadSdpError`). */
export function badSdp(
  state: EmulatorState,
  message: string,
  cors: Headers,
): Response {
  if (state.options.emptyBadSdpError) {
    return jsonResponse(EMPTY_400_BODY, 400, cors);
  }
  return errorResponse(
    new ApiError(400, "invalid_offer", message, "sdp"),
    cors,
  );
}

/** Minimal offer check: `v=` first, an `m=application … webrtc-datachannel` section. */
export function sdpProblem(sdp: string): string | null {
  if (!sdp.trimStart().startsWith("v=")) {
    return "Invalid SDP offer: it must start with 'v='.";
  }
  if (!/^m=application [^\r\n]*webrtc-datachannel/m.test(sdp)) {
    return "Invalid SDP offer: it needs an 'm=application' section for the 'oai-events' data channel.";
  }
  return null;
}

/**
 * The common start of a call-creating POST: CORS headers, injected faults, then the bearer key
 * (401 when missing, unknown or expired). Returns the response to send when one of them ends it.
 */
export async function beginCallRequest(
  req: Request,
  state: EmulatorState,
  endpoint: FaultEndpoint,
): Promise<
  | { cors: Headers; key: Extract<KeyCheck, { kind: "standard" | "ephemeral" }> }
  | Response
> {
  const cors = corsHeaders(req, state, false);
  const fault = await applyFaults(state, endpoint, cors);
  if (fault) return fault;
  const token = bearer(req.headers);
  const key = checkKey(state, token);
  if (key.kind === "invalid" || key.kind === "expired") {
    return errorResponse(invalidKeyError(token), cors);
  }
  return { cors, key };
}

/**
 * Checks the offer, starts the call with `start` and answers 201 with the answer SDP and
 * `Location: <base>/<call id>` (or the bad-SDP 400).
 */
export async function answerCallRequest(
  state: EmulatorState,
  sdp: string,
  cors: Headers,
  base: string,
  start: (sdp: string) => Promise<{ callId: string; answerSdp: string } | { error: string }>,
): Promise<Response> {
  const problem = sdpProblem(sdp);
  if (problem) return badSdp(state, problem, cors);
  const result = await start(sdp);
  if ("error" in result) return badSdp(state, result.error, cors);
  cors.set("content-type", "application/sdp");
  cors.set("location", `${base}/${result.callId}`);
  return new Response(result.answerSdp, { status: 201, headers: cors });
}

/** `POST /v1/realtime/calls`. */
export async function createCall(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  const begun = await beginCallRequest(req, state, "calls");
  if (begun instanceof Response) return begun;
  const { cors, key } = begun;
  const ctype = (req.headers.get("content-type") ?? "").toLowerCase();
  let sdp: string;
  let session: EffectiveSession;
  try {
    if (ctype.startsWith("application/sdp")) {
      sdp = await req.text();
      if (key.kind === "ephemeral") {
        // A translation secret belongs on /v1/realtime/translations/calls: a "mismatched
        // session/key type", which OpenAI answers with its all-empty 400.
        if (key.secret.session.type === "translation") {
          return jsonResponse(EMPTY_400_BODY, 400, cors);
        }
        session = structuredClone(key.secret.session);
      } else {
        const model = new URL(req.url).searchParams.get("model");
        session = model
          ? buildSession({ type: "realtime", model }, "", state.schema, {
            source: "call",
          })
          : defaultSession("realtime", state.schema);
      }
    } else if (ctype.startsWith("multipart/form-data")) {
      if (!/boundary=/.test(ctype)) {
        return errorResponse(
          new ApiError(
            400,
            null,
            "Invalid multipart body: the Content-Type header has no boundary.",
          ),
          cors,
        );
      }
      if (key.kind !== "standard") {
        return jsonResponse(EMPTY_400_BODY, 400, cors);
      }
      let form: FormData;
      try {
        form = await req.formData();
      } catch {
        return errorResponse(
          new ApiError(400, null, "Invalid multipart body."),
          cors,
        );
      }
      const sdpPart = form.get("sdp");
      if (sdpPart === null) {
        return errorResponse(
          new ApiError(
            400,
            "missing_required_parameter",
            "Missing required parameter: 'sdp'.",
            "sdp",
          ),
          cors,
        );
      }
      sdp = typeof sdpPart === "string" ? sdpPart : await sdpPart.text();
      const sessPart = form.get("session");
      let raw: unknown = undefined;
      if (sessPart !== null) {
        const text = typeof sessPart === "string" ? sessPart : await sessPart.text();
        try {
          raw = JSON.parse(text);
        } catch {
          return errorResponse(
            new ApiError(
              400,
              "invalid_json",
              "Invalid 'session': expected a JSON object.",
              "session",
            ),
            cors,
          );
        }
      }
      session = buildSession(raw, "session.", state.schema, {
        source: "call",
        defaultType: "realtime",
      });
    } else {
      return errorResponse(
        new ApiError(
          400,
          null,
          `Unsupported content type: '${
            ctype || "none"
          }'. Use 'application/sdp' or 'multipart/form-data'.`,
        ),
        cors,
      );
    }
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e, cors);
    throw e;
  }
  const model = transcriptionModel(session);
  if (model && state.options.webrtcRefusedModels.includes(model)) {
    // Unverified (option webrtcRefusedModels): what a refusal of the model over WebRTC looks like.
    return errorResponse(
      new ApiError(
        400,
        "invalid_value",
        `Model '${model}' is not supported for WebRTC calls.`,
        "session.audio.input.transcription.model",
      ),
      cors,
    );
  }
  return await answerCallRequest(
    state,
    sdp,
    cors,
    "/v1/realtime/calls",
    (offer) => startWebRtcCall(state, offer, session),
  );
}

function notFound(id: string): Response {
  return errorResponse(
    new ApiError(404, "call_not_found", `Call '${id}' not found.`, null),
  );
}

/**
 * `POST /v1/realtime/calls/{id}/{action}` for hangup, accept, reject and refer; with `api`, only
 * calls of that API are found (`/v1/realtime/translations/calls/{id}/hangup`).
 */
export async function callAction(
  req: Request,
  state: EmulatorState,
  id: string,
  action: string,
  api?: CallRecord["api"],
): Promise<Response> {
  const fault = await applyFaults(state, action as FaultEndpoint);
  if (fault) return fault;
  const token = bearer(req.headers);
  if (checkKey(state, token).kind !== "standard") {
    return errorResponse(invalidKeyError(token));
  }
  const call = state.calls.get(id);
  if (!call || call.state === "ended" || call.kind === "websocket") {
    return notFound(id);
  }
  if (api && call.api !== api) return notFound(id);
  // Translation calls: no documented call control; hangup only when the option allows it.
  if (
    call.api === "translation" && !(action === "hangup" && state.options.translationHangup)
  ) return notFound(id);
  try {
    // deno-lint-ignore no-explicit-any
    const body: any = await readJson(req, true);
    switch (action) {
      case "hangup":
        await state.endCall(call, "hangup");
        return new Response(null, { status: 200 });
      case "accept": {
        if (call.kind !== "sip" || call.state !== "ringing") {
          throw new ApiError(
            400,
            "invalid_call_state",
            `Call '${id}' is not a ringing SIP call.`,
          );
        }
        const session = buildSession(body, "", state.schema, {
          source: "sip_accept",
        });
        acceptSipCall(state, call, session);
        return new Response(null, { status: 200 });
      }
      case "reject": {
        check(s.object({ status_code: s.int(400, 699) }), body, "");
        if (call.kind !== "sip" || call.state !== "ringing") {
          throw new ApiError(
            400,
            "invalid_call_state",
            `Call '${id}' is not a ringing SIP call.`,
          );
        }
        call.sip!.rejectStatus = body.status_code ?? 603;
        await state.endCall(call, `rejected ${call.sip!.rejectStatus}`);
        return new Response(null, { status: 200 });
      }
      case "refer": {
        check(s.object({ target_uri: s.string() }, ["target_uri"]), body, "");
        if (call.kind !== "sip") {
          throw new ApiError(
            400,
            "invalid_call_state",
            `Call '${id}' is not a SIP call.`,
          );
        }
        call.sip!.referTarget = body.target_uri;
        await state.endCall(call, `referred to ${body.target_uri}`);
        return new Response(null, {
          status: 200,
          headers: { "content-length": "0" },
        });
      }
    }
    return notFound(id);
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    throw e;
  }
}

/**
 * The control API under `/_emulator/` (not part of OpenAI's API): transcript queue,
 * call inspection, faults, per-model switches, reset and SIP simulation. Documented in docs/emulator.md.
 *
 * @module
 */
import { ApiError, errorResponse, jsonResponse } from "./errors.ts";
import { FAULT_ENDPOINTS, type RestFailure } from "./faults.ts";
import { dropSidebands } from "./realtime_socket.ts";
import { incomingSipCall } from "./sip.ts";
import type { CallRecord, EmulatorState } from "./state.ts";
import { check, s } from "./validate.ts";
import { REFUSABLE_OPTIONS, type RefusalRules } from "./model_overrides.ts";
import { TRANSCRIPTION_MODELS } from "./models.ts";

const transcriptsSpec = s.object({
  texts: s.array(s.string()),
  callId: s.string(),
  // Output language of translated text (Translation sessions); absent = source transcripts.
  language: s.string(),
}, ["texts"]);

const modelIds = s.enum(...TRANSCRIPTION_MODELS);

const modelsSpec = s.object({
  omitLogprobs: s.array(modelIds),
  refuse: s.record(s.enum("*", ...TRANSCRIPTION_MODELS), s.array(s.enum(...REFUSABLE_OPTIONS))),
});

const faultsSpec = s.object({
  rest: s.array(s.object({
    endpoint: s.enum("*", ...FAULT_ENDPOINTS),
    count: s.int(1),
    status: s.int(100, 599),
    body: s.any(),
  }, ["endpoint", "status"])),
  latencyMs: s.int(0),
  refuseSidebandAttaches: s.int(0),
  dropSidebands: s.either("a boolean or a call id", s.boolean(), s.string()),
  exposeLocation: s.boolean(),
  outOfOrderCompleted: s.boolean(),
  failTranscriptions: s.int(0),
  expireSessions: s.either("a boolean or a call id", s.boolean(), s.string()),
});

/** A JSON view of one call. */
export function describeCall(call: CallRecord): Record<string, unknown> {
  const session = call.session;
  return {
    id: call.id,
    kind: call.kind,
    api: call.api,
    state: call.state,
    createdAt: call.createdAt,
    endedReason: call.endedReason,
    session: session?.config ?? null,
    sessionId: session?.id ?? null,
    audioPackets: call.peer?.stats().audioPackets ?? null,
    peer: call.peer?.stats() ?? null,
    audioMs: Math.round(session?.stats.audioMs ?? 0),
    utterances: session?.stats.utterances ?? 0,
    transcriptsCompleted: session?.stats.completed ?? 0,
    transcriptsFailed: session?.stats.failed ?? 0,
    sidebands: [...session?.sinks ?? []].filter((x) => x.kind === "sideband")
      .map((x) => x.id),
    connections: [...session?.sinks ?? []].map((x) => ({
      id: x.id,
      kind: x.kind,
    })),
    sip: call.sip,
  };
}

async function body(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The body is not valid JSON.");
  }
}

/** Handles `/_emulator/*`; returns null for an unknown path. */
export async function handleControl(
  req: Request,
  state: EmulatorState,
  path: string,
): Promise<Response | null> {
  try {
    const m = req.method;
    if (path === "/_emulator/transcripts" && m === "POST") {
      const b = await body(req);
      check(transcriptsSpec, b, "");
      const { texts, callId, language } = b as {
        texts: string[];
        callId?: string;
        language?: string;
      };
      state.transcripts.push(texts, callId, language);
      return jsonResponse({ queued: state.transcripts.snapshot() });
    }
    if (path === "/_emulator/transcripts" && m === "GET") {
      return jsonResponse(state.transcripts.snapshot());
    }
    if (path === "/_emulator/calls" && m === "GET") {
      return jsonResponse({
        calls: [...state.calls.values()].map(describeCall),
      });
    }
    const one = path.match(/^\/_emulator\/calls\/([^/]+)$/);
    if (one && m === "GET") {
      const call = state.calls.get(one[1]);
      return call
        ? jsonResponse(describeCall(call))
        : errorResponse(new ApiError(404, "call_not_found", "No such call."));
    }
    if (path === "/_emulator/faults" && m === "POST") {
      return jsonResponse(await setFaults(req, state));
    }
    if (path === "/_emulator/faults" && m === "GET") {
      return jsonResponse(state.faults);
    }
    if (path === "/_emulator/faults" && m === "DELETE") {
      state.faults.clear();
      return jsonResponse(state.faults);
    }
    if (path === "/_emulator/models" && m === "GET") {
      return jsonResponse(state.models);
    }
    if (path === "/_emulator/models" && m === "POST") {
      const b = await body(req);
      check(modelsSpec, b, "");
      const { omitLogprobs, refuse } = b as {
        omitLogprobs?: string[];
        refuse?: RefusalRules;
      };
      if (omitLogprobs) state.models.omitLogprobs = omitLogprobs;
      if (refuse) state.models.refuse = refuse;
      return jsonResponse(state.models);
    }
    if (path === "/_emulator/models" && m === "DELETE") {
      state.models.reset();
      return jsonResponse(state.models);
    }
    if (path === "/_emulator/reset" && m === "POST") {
      await state.reset();
      return jsonResponse({ ok: true });
    }
    if (path === "/_emulator/sip/incoming" && m === "POST") {
      const b = await body(req);
      // deno-lint-ignore no-explicit-any
      const wav = (b as any)?.wavPath;
      if (typeof wav === "string") {
        try {
          await Deno.stat(wav);
        } catch {
          throw new ApiError(
            400,
            "invalid_value",
            `No WAV file at '${wav}'.`,
            "wavPath",
          );
        }
      }
      return jsonResponse(incomingSipCall(state, b), 201);
    }
    if (path === "/_emulator/requests" && m === "GET") {
      // `?path=` keeps only the answers to that path (e.g. `/v1/realtime/client_secrets`).
      const only = new URL(req.url).searchParams.get("path");
      const requests = only === null
        ? state.requests
        : state.requests.filter((r) => r.path === only);
      return jsonResponse({ requests });
    }
    if (path === "/_emulator/requests" && m === "DELETE") {
      state.requests.length = 0;
      return jsonResponse({ requests: [] });
    }
    if (path === "/_emulator/health" && m === "GET") {
      return jsonResponse({ ok: true });
    }
    return null;
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    throw e;
  }
}

async function setFaults(
  req: Request,
  state: EmulatorState,
): Promise<Record<string, unknown>> {
  const b = await body(req);
  check(faultsSpec, b, "");
  // deno-lint-ignore no-explicit-any
  const f = b as any;
  const faults = state.faults;
  if (f.rest) {
    faults.rest.push(
      ...(f.rest as RestFailure[]).map((r) => ({ ...r, count: r.count ?? 1 })),
    );
  }
  if (f.latencyMs !== undefined) faults.latencyMs = f.latencyMs;
  if (f.refuseSidebandAttaches !== undefined) {
    faults.refuseSidebandAttaches = f.refuseSidebandAttaches;
  }
  if (f.exposeLocation !== undefined) faults.exposeLocation = f.exposeLocation;
  if (f.outOfOrderCompleted !== undefined) {
    faults.outOfOrderCompleted = f.outOfOrderCompleted;
  }
  if (f.failTranscriptions !== undefined) {
    faults.failTranscriptions = f.failTranscriptions;
  }
  let dropped = 0;
  if (f.dropSidebands) {
    dropped = dropSidebands(
      state,
      typeof f.dropSidebands === "string" ? f.dropSidebands : undefined,
    );
  }
  let expired = 0;
  if (f.expireSessions) {
    for (const call of state.calls.values()) {
      if (
        typeof f.expireSessions === "string" && call.id !== f.expireSessions
      ) continue;
      if (call.state === "active" && call.session && !call.session.ended) {
        call.session.expire();
        expired++;
      }
    }
  }
  return {
    faults: faults.toJSON(),
    droppedSidebands: dropped,
    expiredSessions: expired,
  };
}

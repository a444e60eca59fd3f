/**
 * The OpenAPI 3.1 document of every `/api` route, generated from the same zod schemas the routes
 * validate with (`z.toJSONSchema`). Served at `GET /api/openapi.json`; `docs/api.md` is the
 * human-readable companion.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { SessionOptionsSchema } from "./session_config.ts";
import { CALL_ID_PATTERN } from "../shared/call_id.js";
import {
  DeleteSessionResponse,
  ErrorSchema,
  EventsQuery,
  ListSessionsQuery,
  MergeUtterancesBody,
  MergeUtterancesResponse,
  SessionDetailResponse,
  SessionIdSchema,
  SessionListResponse,
  TranscriptQuery,
} from "./store/schemas.ts";

// Shapes of the core routes' bodies and answers, for documentation (the routes validate with
// their own private schemas of the same shape).
const Ticket = z.string().min(1).max(1024).meta({
  description: "From `POST /api/session`.",
});
const TicketBody = z.object({ ticket: Ticket });
const RelayBody = z.object({
  ticket: Ticket,
  sdp: z.string().min(10).max(200_000),
});
const CallId = z.string().regex(CALL_ID_PATTERN);
const MintResponse = z.object({
  sessionId: SessionIdSchema,
  ticket: z.string(),
  ephemeralKey: z.string().nullable().meta({
    description:
      "`ek_…`: only starts one call. Null when the server runs with `SIGNALING=relay`: relay the offer through `POST /api/calls`.",
  }),
  expiresAt: z.number().meta({
    description:
      "Unix seconds by which the call must start (the key's expiry; with `SIGNALING=relay`, when `POST /api/calls` stops accepting this session's first offer).",
  }),
  realtimeUrl: z.string().nullable().meta({
    description: "Where to post the SDP offer with the key; null when there is no key.",
  }),
  clientCommits: z.boolean(),
  model: z.string(),
  settings: z.record(z.string(), z.unknown()),
});
const Adjustment = z.object({
  option: z.string().meta({ description: "The option left out, as named in the request body." }),
  reason: z.string().meta({
    description: "One sentence for the person: what OpenAI said and what happens instead.",
  }),
  learned: z.boolean().meta({
    description:
      "True when an earlier refusal (a learned rule, kept 7 days) left it out without asking OpenAI.",
  }),
}).meta({
  description:
    "An option OpenAI refused for this model although the catalog allows it; the session runs without it.",
});
const ModelsResponse = z.object({
  defaultModel: z.string(),
  models: z.array(z.record(z.string(), z.unknown())),
});
const ConfigResponse = z.looseObject({
  demo: z.boolean(),
  hasKey: z.boolean(),
  platform: z.enum(["local", "valtown"]),
  defaultModel: z.string(),
});

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  tag: string;
  summary: string;
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<
    string,
    { description: string; schema?: z.ZodType; type?: string }
  >;
}

const err = (description: string) => ({ description, schema: ErrorSchema });
const id = { id: SessionIdSchema };
const call = { callId: CallId };

/** Every documented `/api` operation (the test checks the app has no undocumented one). */
export const OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/api/config",
    tag: "page",
    summary: "What the page must know first: demo mode, key help, limits",
    responses: {
      200: { description: "Public configuration", schema: ConfigResponse },
    },
  },
  {
    method: "post",
    path: "/api/session",
    tag: "calls",
    summary: "Mint an ephemeral key (none with SIGNALING=relay) and a pending session",
    body: SessionOptionsSchema,
    responses: {
      200: {
        description: "Key, ticket and where to post the SDP offer",
        schema: MintResponse.extend({ adjustments: z.array(Adjustment) }),
      },
      400: err("Invalid option"),
      429: err("Rate limit or budget reached"),
      502: err("The Realtime API failed"),
      503: err("No OPENAI_API_KEY"),
    },
  },
  // A stored session's next call (routes/continuation.ts).
  {
    method: "post",
    path: "/api/session/{id}/continue",
    tag: "calls",
    summary: "A key for a new call of the same session (reconnect, or before the 60-minute limit)",
    pathParams: id,
    body: TicketBody,
    responses: {
      200: {
        description: "Key and ticket for the next call; the session is released from its old call",
        schema: MintResponse.extend({
          continued: z.literal(true),
          remainingSeconds: z.number().meta({
            description: "Seconds left before MAX_SESSION_SECONDS (counted from the first call).",
          }),
        }),
      },
      400: err("Invalid id or body"),
      401: err("Invalid ticket"),
      403: err("The ticket belongs to another session"),
      404: err("No such session"),
      409: err(
        "The session ended, reached its maximum length, or never started a call in time (`session_start_expired`)",
      ),
      429: err("Over the per-minute mint limit (every new key counts); see Retry-After"),
      502: err("The Realtime API failed"),
    },
  },
  {
    method: "post",
    path: "/api/calls",
    tag: "calls",
    summary:
      "Relay the SDP offer with the server key and start the sideband (the fallback, or every call with SIGNALING=relay)",
    body: RelayBody,
    responses: {
      201: {
        description: "SDP answer",
        schema: z.object({
          sdp: z.string(),
          callId: CallId,
          sideband: z.string(),
        }),
      },
      400: err("Invalid body"),
      401: err("Invalid ticket"),
      409: err(
        "The session already has a call, has ended, or was not started within EPHEMERAL_KEY_TTL_SECONDS (`session_start_expired`: start again)",
      ),
      502: err("The Realtime API failed"),
    },
  },
  {
    method: "post",
    path: "/api/calls/{callId}/sideband",
    tag: "calls",
    summary: "Attach the server's sideband to a call the browser created",
    pathParams: call,
    body: TicketBody,
    responses: {
      202: {
        description: "Sideband starting or running",
        schema: z.object({
          sessionId: z.string(),
          callId: CallId,
          sideband: z.string(),
        }),
      },
      400: err("Invalid call id or body"),
      401: err("Invalid ticket"),
      409: err("Session ended or bound to another call"),
    },
  },
  {
    method: "post",
    path: "/api/calls/{callId}/hangup",
    tag: "calls",
    summary: "Hang the call up",
    pathParams: call,
    body: TicketBody,
    responses: {
      200: {
        description: "Hung up",
        schema: z.object({
          sessionId: z.string(),
          callId: CallId,
          hungUp: z.boolean(),
        }),
      },
      400: err("Invalid call id or body"),
      401: err("Invalid ticket"),
      409: err("The session belongs to another call"),
    },
  },
  {
    method: "get",
    path: "/api/models",
    tag: "models",
    summary: "Transcription model catalog",
    responses: {
      200: { description: "Models and the default", schema: ModelsResponse },
    },
  },
  {
    method: "get",
    path: "/api/sessions",
    tag: "sessions",
    summary:
      "List sessions, newest first (with no ACCESS_CODE, only the caller's own; with one, all)",
    query: ListSessionsQuery,
    responses: {
      200: { description: "One page", schema: SessionListResponse },
      400: err("Invalid limit or cursor"),
    },
  },
  {
    method: "get",
    path: "/api/sessions/{id}",
    tag: "sessions",
    summary: "One session with its utterances in spoken order",
    pathParams: id,
    responses: {
      200: { description: "The session", schema: SessionDetailResponse },
      400: err("Invalid id"),
      404: err("No such session"),
    },
  },
  {
    method: "get",
    path: "/api/sessions/{id}/transcript",
    tag: "sessions",
    summary: "The transcript as txt, srt, vtt or json (final utterances)",
    pathParams: id,
    query: TranscriptQuery,
    responses: {
      200: { description: "The transcript", type: "text/plain" },
      400: err("Invalid id or format"),
      404: err("No such session"),
    },
  },
  {
    method: "get",
    path: "/api/sessions/{id}/events",
    tag: "sessions",
    summary:
      "Server-Sent Events: the raw Realtime events (id = seq), live while the call runs; `end` closes",
    pathParams: id,
    query: EventsQuery,
    responses: {
      200: { description: "An event stream", type: "text/event-stream" },
      400: err("Invalid id, after or Last-Event-ID"),
      404: err("No such session"),
    },
  },
  {
    method: "post",
    path: "/api/sessions/{id}/utterances",
    tag: "sessions",
    summary: "Gap repair: the page posts the final utterances it saw",
    pathParams: id,
    body: MergeUtterancesBody,
    responses: {
      200: { description: "What changed", schema: MergeUtterancesResponse },
      400: err("Invalid body"),
      401: err("Invalid ticket"),
      403: err("The ticket belongs to another session"),
      404: err("No such session"),
      413: err(
        "The session's stored transcript reached SESSION_MAX_STORED_KB (`session_storage_full`); the lines that fit were added",
      ),
      429: err(
        "Too many writes this minute (`write_rate_limited`, see Retry-After) or today's stored bytes used up (`write_budget_exhausted`)",
      ),
    },
  },
  {
    method: "delete",
    path: "/api/sessions/{id}",
    tag: "sessions",
    summary: "Delete a session and its data (hangs a live call up first). Needs the " +
      "session's ticket (`Authorization: Bearer <ticket>`), the client that started it, or " +
      "(with ACCESS_CODE) the sign-in cookie",
    pathParams: id,
    responses: {
      200: { description: "Deleted", schema: DeleteSessionResponse },
      400: err("Invalid id"),
      403: err("Not the session's owner (no matching ticket or client)"),
      404: err("No such session"),
      502: err("Hanging up failed; nothing was deleted"),
    },
  },
  {
    method: "get",
    path: "/api/openapi.json",
    tag: "meta",
    summary: "This document",
    responses: {
      200: { description: "OpenAPI 3.1", type: "application/json" },
    },
  },
];

function schemaOf(
  schema: z.ZodType,
  io: "input" | "output",
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

/**
 * Builds the OpenAPI 3.1 document.
 *
 * @example
 * ```ts
 * const doc = buildOpenApiDocument({ version: "1.0.0" });
 * ```
 */
export function buildOpenApiDocument(
  options: { version?: string } = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters: unknown[] = [];
    for (const [name, schema] of Object.entries(op.pathParams ?? {})) {
      parameters.push({
        name,
        in: "path",
        required: true,
        schema: schemaOf(schema, "input"),
      });
    }
    for (const [name, schema] of Object.entries(op.query?.shape ?? {})) {
      const s = schemaOf(schema as z.ZodType, "input");
      parameters.push({
        name,
        in: "query",
        required: !(schema as z.ZodType).safeParse(undefined).success,
        description: s.description,
        schema: s,
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      const type = r.type ?? "application/json";
      responses[status] = {
        description: r.description,
        content: {
          [type]: r.schema ? { schema: schemaOf(r.schema, "output") } : {},
        },
      };
    }
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      operationId: `${op.method}${
        op.path.replace(/[{}]/g, "").split(/[/.]/).map((p) => p[0]?.toUpperCase() + p.slice(1))
          .join("")
      }`,
      tags: [op.tag],
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: schemaOf(op.body, "input") },
            },
          },
        }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "hello-transcription",
      version: options.version ?? "1.0.0",
      description: "Live speech-to-text on the OpenAI Realtime API. Errors are " +
        "`{error:{code,message}}` with a 4xx (upstream failures 502/503/429). Every write under " +
        "`/api` counts against a per-address rate (429 `write_rate_limited`, with Retry-After).",
    },
    paths,
  };
}

/**
 * The OpenAPI 3.1 document of every `/api`, `/auth` and `/webhooks` route, generated from the same
 * zod schemas the routes validate with (`z.toJSONSchema`). Served at `GET /api/openapi.json`; `docs/api.md` is the
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
} from "../routes/api_schemas.ts";
import { TranslationBatchBody, TranslationLanguageSchema } from "./translations.ts";

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
  translations: z.array(z.object({
    language: z.string(),
    name: z.string(),
    ephemeralKey: z.string().nullable().meta({
      description: "A translation key for this language; null with SIGNALING=relay.",
    }),
    url: z.string().nullable().meta({
      description: "Where to post the raw SDP offer with that key (`…/translations/calls`).",
    }),
    relayUrl: z.string().meta({ description: "`POST /api/calls/translation?lang=…`." }),
    expiresAt: z.number().nullable(),
  })).optional().meta({
    description: "One translation call per asked language (each is one more live call).",
  }),
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

const SigninBody = z.object({
  code: z.string().min(1).max(200),
  next: z.string().max(500).optional().meta({
    description: "A same-site path to return to (else `/`).",
  }),
});
const WebhookEvent = z.looseObject({
  id: z.string(),
  type: z.string().meta({ description: "Acted on: `realtime.call.incoming`." }),
  data: z.record(z.string(), z.unknown()),
}).meta({
  description: "A Standard Webhooks delivery from OpenAI, signed with `OPENAI_WEBHOOK_SECRET` " +
    "(`webhook-id`, `webhook-timestamp`, `webhook-signature` headers).",
});
const WebhookAnswer = z.looseObject({ received: z.literal(true) });

/** A stable operation id from method and path: `getApiSessionsIdTranscript`. */
export function operationId(method: string, path: string): string {
  const words = path.replace(/[{}]/g, "").split(/[/.\-_]/).filter((w) => w.length > 0);
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/**
 * Every documented `/api` operation (the tests check the app has no undocumented one, and that
 * the README and docs/api.md have a curl example for each).
 */
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
    body: SessionOptionsSchema.extend({
      translations: z.array(TranslationLanguageSchema).optional().meta({
        description: "Languages to translate into, at most MAX_TRANSLATIONS (default 3).",
      }),
    }),
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
  // A stored session's next call (routes/session/continue.ts).
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
    path: "/api/calls/translation",
    tag: "translations",
    summary:
      "Relay one translation call's raw SDP offer: the server mints a translation key for `lang` and posts the offer with it",
    query: z.strictObject({ lang: TranslationLanguageSchema }),
    body: RelayBody,
    responses: {
      201: {
        description: "SDP answer",
        schema: z.object({ sdp: z.string(), callId: CallId, language: z.string() }),
      },
      400: err("Invalid body or `lang`, or a language the session did not ask for"),
      401: err("Invalid ticket"),
      404: err("The session no longer exists"),
      409: err("The session has ended, or was not started in time"),
      429: err("Too many translation calls for this language, or the mint limit"),
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
    method: "post",
    path: "/api/sessions/{id}/translations",
    tag: "translations",
    summary:
      "The page posts translated-text deltas (idempotent by language and event id, at most 200 per batch and 20000 per session)",
    pathParams: id,
    body: TranslationBatchBody,
    responses: {
      200: {
        description: "How many were new",
        schema: z.object({ added: z.number(), duplicates: z.number() }),
      },
      400: err("Invalid body, or a language the session did not ask for"),
      401: err("Invalid ticket"),
      403: err("The ticket belongs to another session"),
      404: err("No such session"),
      413: err("The session holds its maximum of translation deltas"),
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

/**
 * The operations outside `/api`: sign-in (needs the access code) and OpenAI's signed webhooks,
 * documented but without curl examples.
 */
export const OTHER_OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/auth/signin",
    tag: "auth",
    summary: "The sign-in form (no script); a 302 to `next` when no ACCESS_CODE is set or the " +
      "visitor is signed in",
    query: z.object({ next: z.string().max(500).optional() }),
    responses: {
      200: { description: "The form", type: "text/html" },
      302: { description: "Already signed in, or nothing to sign in to" },
    },
  },
  {
    method: "get",
    path: "/auth/signin.css",
    tag: "auth",
    summary: "The sign-in page's stylesheet (reachable before sign-in)",
    responses: { 200: { description: "CSS", type: "text/css" } },
  },
  {
    method: "post",
    path: "/auth/signin",
    tag: "auth",
    summary: "Check the access code (form or JSON), set the signed `ht_access` cookie; " +
      "throttled per client and globally",
    body: SigninBody,
    responses: {
      200: { description: "JSON clients: signed in", schema: z.object({ ok: z.literal(true) }) },
      302: { description: "Form posts: signed in, back to `next`" },
      400: err("No code sent"),
      401: err("Wrong code"),
      403: err("Cross-site request"),
      404: err("No ACCESS_CODE is set"),
      429: err("Too many attempts (Retry-After)"),
    },
  },
  {
    method: "post",
    path: "/auth/signout",
    tag: "auth",
    summary: "Forget the cookie; a signed-in caller also revokes every access cookie signed " +
      "so far (everyone signs in again)",
    responses: {
      302: { description: "To the sign-in page" },
      403: err("Cross-site request"),
    },
  },
  {
    method: "post",
    path: "/webhooks/openai",
    tag: "webhooks",
    summary: "OpenAI's signed webhooks (SIP `realtime.call.incoming`); a delivery or call " +
      "already handled is acknowledged without acting again",
    body: WebhookEvent,
    responses: {
      200: {
        description: "Received (and acted on, ignored or a duplicate)",
        schema: WebhookAnswer,
      },
      400: err("Unreadable or not an OpenAI event"),
      401: err("Missing, stale or wrong signature"),
      413: err("Body too large"),
      503: err("No (usable) OPENAI_WEBHOOK_SECRET"),
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
  for (const op of [...OPERATIONS, ...OTHER_OPERATIONS]) {
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
      operationId: operationId(op.method, op.path),
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

/**
 * Zod schemas of the `/api/sessions` API: what the routes accept (validated) and what they return
 * (documented). `lib/openapi.ts` builds the OpenAPI document from these same schemas.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { SESSION_ID_PATTERN } from "../lib/store/ids.ts";

/** A public session id (22+ base64url characters, 128 random bits). */
export const SessionIdSchema = z.string().regex(
  SESSION_ID_PATTERN,
  "Not a session id",
)
  .meta({
    description: "Unguessable session id (128 random bits, base64url).",
  });

/**
 * An SDP offer a relay route forwards to OpenAI. Checked here so junk never reaches OpenAI (whose
 * refusal would be a 502, after a key was minted for it): an offer starts with `v=0`, and has an
 * origin and at least one media section.
 */
export const SdpOfferSchema = z.string().min(10).max(200_000).refine(
  (s) => /^v=0\r?\n/.test(s) && /\r?\no=/.test(s) && /\r?\nm=(audio|video|application) /.test(s),
  "Not an SDP offer (v=0, o= and an m= line)",
);

const ItemId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "Not an item id");
const Ms = z.number().finite().min(0).max(1e10);

/** `GET /api/sessions` query. */
export const ListSessionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20)
    .meta({ description: "Page size, 1 to 100." }),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, "Not a cursor").optional()
    .meta({ description: "`nextCursor` from the previous page." }),
});

/** `GET /api/sessions/:id/transcript` query. */
export const TranscriptQuery = z.strictObject({
  format: z.enum(["txt", "srt", "vtt", "json"]).default("txt"),
  download: z.enum(["0", "1"]).optional()
    .meta({ description: "1 = `Content-Disposition: attachment`." }),
  lang: z.string().regex(/^[a-z]{2}$/, "Must be a two-letter language code").optional()
    .meta({ description: "One translated language of the session (else the original)." }),
});

/** `GET /api/sessions/:id/events` query (the `Last-Event-ID` header wins when larger). */
export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()
    .meta({ description: "Send events with a larger sequence number only." }),
  translationsAfter: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()
    .meta({ description: "Send translation deltas with a larger `seq` only." }),
});

/** One final utterance the page saw, for gap repair. */
export const BrowserUtteranceSchema = z.object({
  itemId: ItemId,
  previousItemId: ItemId.nullable().default(null),
  status: z.enum(["pending", "partial", "final", "failed"]).default("final")
    .meta({
      description: "Only `final` utterances are merged; others are ignored.",
    }),
  text: z.string().max(20_000),
  startMs: Ms.nullable().default(null),
  endMs: Ms.nullable().default(null),
  confidence: z.number().min(0).max(1).nullable().default(null),
});

/** `POST /api/sessions/:id/utterances` body. */
export const MergeUtterancesBody = z.object({
  ticket: z.string().min(1).max(1024).meta({
    description: "The ticket from `POST /api/session`.",
  }),
  utterances: z.array(BrowserUtteranceSchema).max(5000),
});

/** A session as the API returns it. */
export const SessionSchema = z.object({
  id: SessionIdSchema,
  callId: z.string().nullable(),
  source: z.enum(["webrtc", "sip"]),
  status: z.enum(["pending", "live", "ended", "failed"]),
  model: z.string(),
  settings: z.record(z.string(), z.unknown()),
  caller: z.string().nullable(),
  createdAt: z.number().meta({ description: "Unix milliseconds." }),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  endReason: z.string().nullable(),
});

/** An utterance as the API returns it. */
export const UtteranceSchema = z.object({
  itemId: z.string(),
  previousItemId: z.string().nullable(),
  status: z.enum(["partial", "final", "failed"]),
  text: z.string(),
  startMs: z.number().nullable(),
  endMs: z.number().nullable(),
  confidence: z.number().nullable(),
  error: z.string().nullable(),
  languages: z.array(z.string()).nullable().optional(),
  seenBy: z.enum(["server", "browser", "both"]),
  updatedAt: z.number(),
});

/** `GET /api/sessions` response. */
export const SessionListResponse = z.object({
  sessions: z.array(SessionSchema),
  nextCursor: z.string().nullable(),
});

/** One call of a session, with its place on the session's clock. */
export const SessionCallSchema = z.object({
  callId: z.string(),
  attachedAt: z.number().meta({
    description: "Unix milliseconds at which the call was first bound to the session.",
  }),
  offsetMs: z.number().meta({
    description: "Added to this call's audio times to make them session-relative: the time " +
      "between the session's first call and this one being bound (0 for the first call).",
  }),
});

/** `GET /api/sessions/:id` response. */
export const SessionDetailResponse = z.object({
  session: SessionSchema,
  utterances: z.array(UtteranceSchema),
  calls: z.array(SessionCallSchema).meta({
    description: "The calls the session ran on, first first (more than one after a " +
      "`POST /api/session/{id}/continue`).",
  }),
  lastSeq: z.number().int()
    .meta({
      description: "Sequence number of the newest stored event; pass as `after`.",
    }),
  shareUrl: z.string().meta({
    description: "Path of the read-only viewer, `/s/{id}`.",
  }),
  translations: z.object({
    languages: z.array(z.string()),
    deltas: z.array(z.object({
      seq: z.number().int(),
      eventId: z.string(),
      language: z.string(),
      kind: z.enum(["output", "input"]),
      text: z.string(),
      elapsedMs: z.number().meta({ description: "On the translation call's own clock." }),
      atMs: z.number().meta({ description: "On the session's clock (the page's estimate)." }),
      itemId: z.string().nullable().meta({ description: "The line the page placed it under." }),
    })),
    lastSeq: z.number().int().meta({ description: "Pass as `translationsAfter` to the stream." }),
  }).meta({
    description: "The session's translation languages and every translated-text delta " +
      "(`shared/translations.js` places them under the lines).",
  }),
});

/** `POST /api/sessions/:id/utterances` response. */
export const MergeUtterancesResponse = z.object({
  added: z.number(),
  confirmed: z.number(),
});

/** `DELETE /api/sessions/:id` response. */
export const DeleteSessionResponse = z.object({
  id: z.string(),
  deleted: z.literal(true),
  hungUp: z.boolean().meta({
    description: "True when a live call was hung up first.",
  }),
});

/** The error body every route uses. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    upstreamStatus: z.number().optional(),
  }),
});

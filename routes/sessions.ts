/**
 * `/api/sessions`: the sessions the server remembers — list, one session with its utterances and
 * calls, transcript exports, a live Server-Sent Events tail of the raw events, gap repair from the
 * page, and deletion (hanging a live call up first). Ids are validated before any lookup; every
 * error is JSON `{error:{code,message}}`.
 *
 * @module
 */
import { type Context, Hono } from "npm:hono@4.13.19";
import { streamSSE } from "npm:hono@4.13.19/streaming";
import type { AppDeps } from "../lib/deps.ts";
import { apiError, invalidInput, readJsonBody, upstreamErrorResponse } from "../lib/api_errors.ts";
import {
  EventsQuery,
  ListSessionsQuery,
  MergeUtterancesBody,
  SessionIdSchema,
  TranscriptQuery,
} from "./api_schemas.ts";
import type { CallRow, SessionRow } from "../lib/store/types.ts";
import { checkTicket } from "../lib/ticket_guard.ts";
import { clientIp, clientKey } from "../lib/security/client_ip.ts";
import { requesterOwnerKey } from "../lib/security/client_id.ts";
import { chargeSessionUsage } from "../lib/security/limits.ts";
import { clientWriteBudget } from "../lib/security/write_limits.ts";
import { UpstreamError } from "../lib/upstream.ts";
import { toJson, toSrt, toTxt, toVtt } from "../shared/formats.js";
import type { Utterance } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";
import { alignTranslations, translatedUtterances } from "../shared/translations.js";
import { publicDelta, translationsDetail } from "./translations.ts";
import { sessionTranslations } from "../lib/translations.ts";

/** Tuning of the SSE tail (tests shorten it). */
export interface EventStreamOptions {
  /** How often the store is polled for new rows (the writer may be another process). */
  pollMs: number;
  /** A comment line keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** The server closes a stream after this long; `EventSource` resumes with `Last-Event-ID`. */
  maxStreamMs: number;
  /**
   * Open streams one client (IP pseudonym) may hold in this process: each polls the Store, so a
   * stranger opening thousands would load it for everyone.
   */
  maxStreamsPerClient: number;
}

const DEFAULT_STREAM: EventStreamOptions = {
  pollMs: 250,
  heartbeatMs: 15_000,
  maxStreamMs: 10 * 60_000,
  maxStreamsPerClient: 10,
};

type Render = (u: Utterance[], s: SessionRow) => string;

const FORMATS: Record<"txt" | "srt" | "vtt" | "json", { type: string; render: Render }> = {
  txt: { type: "text/plain; charset=utf-8", render: (u) => toTxt(u) },
  srt: { type: "application/x-subrip; charset=utf-8", render: (u) => toSrt(u) },
  vtt: { type: "text/vtt; charset=utf-8", render: (u) => toVtt(u) },
  json: {
    type: "application/json; charset=utf-8",
    render: (u, s) => toJson(u, { sessionId: s.id, model: s.model }),
  },
};

const isFinished = (s: SessionRow) => s.status === "ended" || s.status === "failed";

function badId(): Response {
  return apiError(
    400,
    "invalid_session_id",
    "The session id must be 22 to 64 base64url characters",
  );
}

function notFound(): Response {
  return apiError(404, "session_not_found", "No such session");
}

/** The fields anyone holding the id may see (never the client key). */
export function publicSession(s: SessionRow): SessionRow {
  return {
    id: s.id,
    callId: s.callId,
    source: s.source,
    status: s.status,
    model: s.model,
    settings: s.settings,
    caller: s.caller,
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    endReason: s.endReason,
  };
}

/** A call as the API shows it (the page shifts its live view by `offsetMs`, as the Store does). */
function publicCall(call: CallRow): { callId: string; attachedAt: number; offsetMs: number } {
  return { callId: call.callId, attachedAt: call.attachedAt, offsetMs: call.offsetMs };
}

/** Keys of a session object that may hold server-private text (`TRANSCRIPTION_PROMPT`). */
const PRIVATE_KEYS = new Set(["prompt", "instructions"]);

function withoutPrivate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrivate);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => !PRIVATE_KEYS.has(k))
      .map(([k, v]) => [k, withoutPrivate(v)]),
  );
}

/**
 * An event as anyone holding the id may see it: `session.created`/`session.updated` carry the
 * server-private prompt the sideband pushed, so prompts are removed from `session`.
 */
export function publicEvent(
  event: Record<string, unknown>,
): Record<string, unknown> {
  if (typeof event.session !== "object" || event.session === null) return event;
  return { ...event, session: withoutPrivate(event.session) };
}

/** Routes for `/api/sessions`. `stream` tunes the SSE tail (tests). */
export function sessionsRoutes(
  deps: AppDeps,
  stream: Partial<EventStreamOptions> = {},
): Hono {
  const app = new Hono();
  const { store, config } = deps;
  // On Val Town every query is a network round trip to its SQLite service: poll less often.
  const pollMs = config.platform === "valtown" ? 1000 : DEFAULT_STREAM.pollMs;
  const tail = { ...DEFAULT_STREAM, pollMs, ...stream };
  /** Open event streams per client (IP pseudonym) in this process. */
  const streams = new Map<string, number>();
  if (config.platformRequestLimitSeconds) {
    // Close before the platform kills the request, so the client resumes cleanly.
    tail.maxStreamMs = Math.min(
      tail.maxStreamMs,
      Math.max(1000, (config.platformRequestLimitSeconds - 5) * 1000),
    );
  }

  /** Validates `:id` and loads the session, or returns the error response. */
  async function load(id: string): Promise<SessionRow | Response> {
    if (!SessionIdSchema.safeParse(id).success) return badId();
    return (await store.getSession(id)) ?? notFound();
  }

  /** The requester's IP pseudonym: what the per-client stream cap counts (never authorisation). */
  function requesterKey(c: Context): Promise<string> {
    return clientKey(config.signingSecret, clientIp(c, { platform: config.platform }));
  }

  // List sessions, newest first, paged; on a public val (no ACCESS_CODE) only the caller's own:
  // those bound to its client-id cookie (none without one).
  app.get("/", async (c) => {
    const q = ListSessionsQuery.safeParse(c.req.query());
    if (!q.success) return invalidInput(q.error, { where: "query" });
    const owner = requesterOwnerKey(c);
    if (config.accessCode === null && owner === null) {
      return c.json({ sessions: [], nextCursor: null });
    }
    const page = await store.listSessions({
      limit: q.data.limit,
      cursor: q.data.cursor ?? null,
      ownerKey: config.accessCode === null ? owner! : undefined,
    });
    return c.json({
      sessions: page.sessions.map(publicSession),
      nextCursor: page.nextCursor,
    });
  });

  // One session with its utterances in spoken order.
  app.get("/:id", async (c) => {
    const session = await load(c.req.param("id"));
    if (session instanceof Response) return session;
    const [utterances, lastSeq, calls, translations] = await Promise.all([
      store.listUtterances(session.id),
      store.lastEventSeq(session.id),
      store.listCalls(session.id),
      translationsDetail(store, session),
    ]);
    return c.json({
      session: publicSession(session),
      utterances,
      calls: calls.map(publicCall),
      lastSeq,
      translations,
      shareUrl: `/s/${session.id}`,
    });
  });

  // The transcript as txt, srt, vtt or json (final utterances only).
  app.get("/:id/transcript", async (c) => {
    const q = TranscriptQuery.safeParse(c.req.query());
    if (!q.success) return invalidInput(q.error, { where: "query" });
    const session = await load(c.req.param("id"));
    if (session instanceof Response) return session;
    const lang = q.data.lang;
    const languages = sessionTranslations(session.settings);
    if (lang !== undefined && !languages.includes(lang)) {
      return apiError(
        400,
        "invalid_language",
        `This session has no translation into "${lang}"${
          languages.length ? ` (it has ${languages.join(", ")})` : ""
        }`,
        { field: "lang" },
      );
    }
    let utterances = (await store.listUtterances(session.id)).map(utteranceFromRow);
    const deltas = languages.length ? await store.listTranslationDeltas(session.id) : [];
    const { byLine } = alignTranslations(utterances, deltas);
    if (lang !== undefined) utterances = translatedUtterances(utterances, byLine, lang);
    const format = FORMATS[q.data.format];
    // JSON holds every language; the text formats hold the one asked for.
    const body = q.data.format === "json"
      ? toJson(utterances, {
        sessionId: session.id,
        model: session.model,
        language: lang ?? null,
        translations: languages,
      }, languages.length ? { translations: byLine } : {})
      : format.render(utterances, session);
    const disposition = q.data.download === "1" ? "attachment" : "inline";
    const suffix = lang ? `.${lang}` : "";
    return c.body(body, 200, {
      "Content-Type": format.type,
      "Content-Disposition":
        `${disposition}; filename="transcript-${session.id}${suffix}.${q.data.format}"`,
      "Cache-Control": "no-store",
    });
  });

  // Live tail of the raw server events (SSE, id = seq); resumable with Last-Event-ID.
  app.get("/:id/events", async (c) => {
    const q = EventsQuery.safeParse(c.req.query());
    if (!q.success) return invalidInput(q.error, { where: "query" });
    const header = c.req.header("last-event-id");
    if (header !== undefined && !/^\d{1,15}$/.test(header.trim())) {
      return apiError(
        400,
        "invalid_last_event_id",
        "Last-Event-ID must be an event number",
      );
    }
    const first = await load(c.req.param("id"));
    if (first instanceof Response) return first;
    let after = Math.max(q.data.after ?? 0, header ? Number(header.trim()) : 0);
    // Translations have their own cursor (`translationsAfter`); a resumed stream may repeat some,
    // which readers drop by event id.
    let translationsAfter = q.data.translationsAfter ?? 0;
    const translating = sessionTranslations(first.settings).length > 0;
    const sessionId = first.id;
    const client = await requesterKey(c);
    const open = streams.get(client) ?? 0;
    if (open >= tail.maxStreamsPerClient) {
      return apiError(
        429,
        "too_many_streams",
        "Too many live views are open from this address: close some and try again",
        { headers: { "Retry-After": "30" } },
      );
    }
    streams.set(client, open + 1);
    let released = false;
    // A stream ends by returning, failing or the client going away: count it out once.
    const release = () => {
      if (released) return;
      released = true;
      const left = (streams.get(client) ?? 1) - 1;
      if (left > 0) streams.set(client, left);
      else streams.delete(client);
    };
    return streamSSE(c, async (sse) => {
      sse.onAbort(release);
      try {
        await follow(sse);
      } finally {
        release();
      }
    }, async (err, sse) => {
      release();
      deps.log("error", "Event stream failed", {
        sessionId,
        error: String(err),
      });
      await sse.writeSSE({
        event: "gone",
        data: JSON.stringify({ id: sessionId }),
      });
    });
    async function follow(sse: Parameters<Parameters<typeof streamSSE>[1]>[0]) {
      const started = Date.now();
      let call: string | null = null;
      const offsets = new Map<string, number>();
      let lastWrite = started;
      await sse.writeSSE({
        event: "ready",
        data: JSON.stringify({ after }),
        retry: 2000,
      });
      while (!sse.aborted && !sse.closed) {
        // Read the status BEFORE the rows: a session marked ended has all its rows written.
        const session = await store.getSession(sessionId);
        if (!session) {
          await sse.writeSSE({
            event: "gone",
            data: JSON.stringify({ id: sessionId }),
          });
          return;
        }
        const rows = await store.listEvents(sessionId, {
          afterSeq: after,
          limit: 500,
        });
        for (const row of rows) {
          if (row.callId !== null && row.callId !== call) {
            // Events carry their call's own audio clock: say which call (and its offset) follows.
            call = row.callId;
            if (!offsets.has(call)) {
              for (const c of await store.listCalls(sessionId)) offsets.set(c.callId, c.offsetMs);
            }
            await sse.writeSSE({
              event: "call",
              data: JSON.stringify({ callId: call, offsetMs: offsets.get(call) ?? 0 }),
            });
          }
          await sse.writeSSE({
            id: String(row.seq),
            data: JSON.stringify(publicEvent(row.event)),
          });
          after = row.seq;
          lastWrite = Date.now();
        }
        if (translating) {
          const deltas = await store.listTranslationDeltas(sessionId, {
            afterSeq: translationsAfter,
            limit: 500,
          });
          if (deltas.length) {
            await sse.writeSSE({
              event: "translation",
              data: JSON.stringify({ deltas: deltas.map(publicDelta) }),
            });
            translationsAfter = deltas.at(-1)!.seq;
            lastWrite = Date.now();
          }
          if (deltas.length === 500) continue;
        }
        if (rows.length === 500) continue;
        if (isFinished(session)) {
          await sse.writeSSE({
            event: "end",
            data: JSON.stringify(publicSession(session)),
          });
          return;
        }
        if (Date.now() - started >= tail.maxStreamMs) return;
        if (Date.now() - lastWrite >= tail.heartbeatMs) {
          await sse.write(": heartbeat\n\n");
          lastWrite = Date.now();
        }
        await sse.sleep(tail.pollMs);
      }
    }
  });

  /**
   * A share link is read-only: deleting needs the access cookie (checked by the gate when
   * ACCESS_CODE is set), the session's ticket (`Authorization: Bearer <ticket>`), or the client-id
   * cookie the session was minted under (never the IP).
   */
  async function mayDelete(c: Context, id: string): Promise<boolean> {
    if (config.accessCode !== null) return true;
    const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (bearer && (await checkTicket(bearer, { secret: config.signingSecret, sessionId: id })).ok) {
      return true;
    }
    const mine = requesterOwnerKey(c);
    if (mine === null) return false;
    return (await store.sessionOwnerKey(id)) === mine;
  }

  // Gap repair: the page posts the final utterances it saw (ticket-bound to this session).
  app.post("/:id/utterances", async (c) => {
    const id = c.req.param("id");
    if (!SessionIdSchema.safeParse(id).success) return badId();
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const parsed = MergeUtterancesBody.safeParse(body.value);
    if (!parsed.success) return invalidInput(parsed.error);
    const ticket = await checkTicket(parsed.data.ticket, {
      secret: config.signingSecret,
      sessionId: id,
    });
    if (!ticket.ok) return ticket.response;
    if (!(await store.getSession(id))) return notFound();
    // What one client may store through the page: per UTC day, and per session (exact, in the
    // writing statements).
    const budget = clientWriteBudget(store, config, await requesterKey(c));
    const spent = await budget.refusal();
    if (spent) return spent;
    const finals = parsed.data.utterances.filter((u) => u.status === "final");
    const result = await store.mergeBrowserUtterances(id, finals, {
      maxBytes: config.writes.sessionMaxBytes,
    });
    await budget.charge(result.bytes ?? 0);
    if ((result.refused ?? 0) > 0) {
      return apiError(
        413,
        "session_storage_full",
        `This session's transcript reached its storage cap (${
          Math.round(config.writes.sessionMaxBytes / 1024)
        } KiB); ${result.added} lines were added`,
      );
    }
    return c.json({ added: result.added, confirmed: result.confirmed });
  });

  // Delete a session and its data (owner only); a live call is hung up first.
  app.delete("/:id", async (c) => {
    const session = await load(c.req.param("id"));
    if (session instanceof Response) return session;
    if (!(await mayDelete(c, session.id))) {
      return apiError(
        403,
        "not_owner",
        "Only the client that started this session (or a signed-in user) may delete it",
      );
    }
    let hungUp = false;
    if (!isFinished(session) && session.callId && deps.upstream) {
      try {
        hungUp = await deps.upstream.hangup(session.callId);
      } catch (err) {
        if (err instanceof UpstreamError) return upstreamErrorResponse(err);
        throw err;
      }
      // Its minutes count against the daily budget; the client key goes with the row.
      if (session.startedAt !== null) {
        await chargeSessionUsage(store, { sessionId: session.id, startedAt: session.startedAt });
      }
      deps.sidebands.get(session.callId)?.controller.abort();
    }
    await store.deleteSession(session.id);
    return c.json({ id: session.id, deleted: true as const, hungUp });
  });

  return app;
}

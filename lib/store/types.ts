/**
 * The storage port. One SQL adapter implements it on libSQL locally (`@libsql/client`, a file under
 * `./data/` or `:memory:` in tests) and on Val Town's std/sqlite (same `execute({ sql, args })` shape).
 * Routes, the sideband and the security middleware receive a `Store` as an argument; none of them
 * knows which engine is behind it.
 *
 * @module
 */

/** Where a session's audio came from. */
export type SessionSource = "webrtc" | "sip";

/** Lifecycle of a recorded session. */
export type SessionStatus = "pending" | "live" | "ended" | "failed";

/** One transcription session as the server remembers it. */
export interface SessionRow {
  /** Unguessable public id (used in share links `/s/:id`). */
  id: string;
  /** Realtime call id (`rtc_…`), once known. */
  callId: string | null;
  source: SessionSource;
  status: SessionStatus;
  /** Transcription model. */
  model: string;
  /** The user-visible settings the session was minted with (JSON-serialisable). */
  settings: Record<string, unknown>;
  /** Masked caller number for SIP sessions (e.g. `+1******0100`). */
  caller: string | null;
  /** Unix milliseconds. */
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Why it ended (`hangup`, `max_duration`, `session_expired`, `error: …`). */
  endReason: string | null;
}

/** One utterance (a committed input audio item), folded from events. */
export interface UtteranceRow {
  sessionId: string;
  itemId: string;
  previousItemId: string | null;
  status: "partial" | "final" | "failed";
  /** Final transcript, or partial text while streaming. */
  text: string;
  /**
   * From `audio_start_ms` / `audio_end_ms` plus the offset of the call that reported them
   * ({@linkcode CallRow.offsetMs}), so session-relative across calls.
   */
  startMs: number | null;
  endMs: number | null;
  /** Mean token probability in 0..1 from logprobs, when asked for. */
  confidence: number | null;
  error: string | null;
  /** Detected language codes from `completed` (e.g. `["en"]`), when the model reports them. */
  languages?: string[] | null;
  /** Which side saw the final text: the server sideband, only the browser (gap repair), or both. */
  seenBy: "server" | "browser" | "both";
  updatedAt: number;
}

/** One raw server event kept in the bounded event log. */
export interface EventRow {
  sessionId: string;
  /** Monotonic per session; the SSE `id`. */
  seq: number;
  eventId: string;
  type: string;
  /** The event as received. */
  event: Record<string, unknown>;
  receivedAt: number;
  /** The call whose sideband received it, when the recorder said so. */
  callId: string | null;
}

/**
 * One call a session was bound to. Each call's audio clock starts at 0; `offsetMs` places it on
 * the session's clock: the time between this call and the session's first call being bound to the
 * session (`attachedAt`), an estimate of the time between their audio starts.
 */
export interface CallRow {
  sessionId: string;
  callId: string;
  /** Unix ms at which the call was first bound to the session. */
  attachedAt: number;
  /** Added to this call's audio times; 0 for the session's first call. */
  offsetMs: number;
}

/** Input for {@linkcode Store.createSession}. */
export type NewSession = Pick<SessionRow, "source" | "model" | "settings"> & {
  id?: string;
  callId?: string | null;
  caller?: string | null;
  /**
   * Pseudonymous client key (HMAC of the client IP, `lib/security/client_ip.ts`) for per-client
   * limits. Write-only: it is never part of a {@linkcode SessionRow}, so no route can show it.
   */
  clientKey?: string | null;
  /**
   * Live calls the session holds (1 + its translation languages): its weight against the
   * concurrency caps and the daily budgets. Default 1.
   */
  calls?: number;
};

/** One translated-text delta of a session, as the page posted it. */
export interface NewTranslationDelta {
  /** The translation event's `event_id`; with `language`, what makes a post idempotent. */
  eventId: string;
  /** Output language (`audio.output.language`). */
  language: string;
  /** `output`: translated text; `input`: the translation call's own source transcript. */
  kind: "output" | "input";
  text: string;
  /** `elapsed_ms` on the translation call's audio clock. */
  elapsedMs: number;
  /** The same moment on the session's clock (the page's estimate); defaults to `elapsedMs`. */
  atMs?: number;
  /** The caption line the page placed it under, when it had one. */
  itemId?: string | null;
  callId?: string | null;
}

/** A stored {@linkcode NewTranslationDelta}. */
export interface TranslationDeltaRow extends Required<NewTranslationDelta> {
  /** Monotonic over the store; the SSE stream's cursor for translations. */
  seq: number;
  itemId: string | null;
  callId: string | null;
  receivedAt: number;
}

/** Input for {@linkcode Store.tallyMint}: which counters a mint touches and reads. */
export interface MintTallyInput {
  now: number;
  /** Fixed window of the mint counters (one minute). */
  mintWindowMs: number;
  /**
   * Counter keys: the client's and everyone's. The global counter counts this mint only when the
   * client's count (this mint included) is at most `mineLimit`, so one client over its own limit
   * cannot use up everybody's.
   */
  mints: { mine: string; all: string; mineLimit: number };
  /** Fixed window of the usage counters (one UTC day). */
  usageWindowMs: number;
  usage: { mine: string; all: string };
  /** Which sessions count as active (see {@linkcode Store.countActiveSessions}). */
  active: { clientKey: string; since: number; pendingSince: number };
  /** Mints this one counts as (one per live call it starts); default 1. */
  calls?: number;
  /**
   * Admission: the session row is inserted (a new session), or the session released for its next
   * call (a continuation), in the SAME atomic step as the counting, and only when every figure
   * is within `caps` — so no two admissions can both take the last slot.
   */
  admit?: MintAdmit;
}

/** The caps an admission must stay within (see {@linkcode MintTallyInput.admit}). */
export interface AdmissionCaps {
  mintsMine: number;
  mintsAll: number;
  activeMine: number;
  activeAll: number;
  /** Seconds of transcription per day. */
  usedMine: number;
  usedAll: number;
}

/** An admission: what it writes when it is within its caps. */
export type MintAdmit = AdmitWrite & { caps: AdmissionCaps };

/** What an admission writes when admitted (see {@linkcode MintAdmit}). */
export type AdmitWrite =
  & {
    /**
     * Live calls this admission adds to the active figures: a new session's weight (its `calls`,
     * 1 + its translation languages), 1 for a call a rotation leaves running, 0 to reuse a slot.
     */
    adds: number;
  }
  & (
    | { kind: "create"; session: NewSession & { id: string } }
    | {
      /** A continuation: the session is released for its next call (status `pending`). */
      kind: "continue";
      sessionId: string;
      startedAt: number;
      /**
       * The call it leaves running (a rotation overlaps two calls): held as an extra slot of
       * `clientKey` until `untilMs`, or until that call ends ({@linkcode Store.releaseCall}).
       */
      hold: { callId: string; untilMs: number } | null;
    }
  );

/** What {@linkcode Store.tallyMint} returns: everything the mint limits decide on. */
export interface MintTally {
  /** Mints by this client in the current window, this one included. */
  mintsMine: number;
  /** Mints by everyone in the current window, this one included; null when it was not counted. */
  mintsAll: number | null;
  activeMine: number;
  activeAll: number;
  /** Seconds of transcription used today. */
  usedMine: number;
  usedAll: number;
  /** With {@linkcode MintTallyInput.admit}: whether the row was written. */
  admitted?: boolean;
}

/**
 * Retention. Started sessions (ones that had a call) and never-started ones are kept under
 * separate rules, so a flood of mints can never push an ended transcript out.
 */
export interface PruneOptions {
  /** Ended sessions older than this go (and abandoned ones a day later). */
  maxAgeMs?: number;
  /** Ended started sessions beyond the newest `maxCount` started sessions go. */
  maxCount?: number;
  /**
   * Ended started sessions beyond the newest `maxPerClient` of the same client go first, so one
   * client cannot use up `maxCount` alone.
   */
  maxPerClient?: number;
  /** Never-started sessions created before this (unix ms) go, whatever their status. */
  unstartedBefore?: number;
  now?: number;
}

/** An option OpenAI refused for a model although the catalog allowed it (`lib/self_heal.ts`). */
export interface LearnedRuleRow {
  model: string;
  /** The option's name in the session options (`turnDetection`, `logprobs`, …). */
  option: string;
  /** What OpenAI said (redacted, as in the logs). */
  upstreamMessage: string;
  /** OpenAI's `x-request-id` of the refusal. */
  requestId: string | null;
  /** Unix ms. */
  learnedAt: number;
  /** Unix ms after which the option is tried again. */
  expiresAt: number;
}

/** The storage port. Every write is idempotent where the doc says so. */
export interface Store {
  /** Creates tables and runs migrations; safe to call on every start. */
  migrate(): Promise<void>;
  createSession(input: NewSession): Promise<SessionRow>;
  getSession(id: string): Promise<SessionRow | null>;
  getSessionByCallId(callId: string): Promise<SessionRow | null>;
  updateSession(
    id: string,
    patch: Partial<
      Pick<
        SessionRow,
        "callId" | "status" | "startedAt" | "endedAt" | "endReason" | "settings"
      >
    >,
  ): Promise<void>;
  /**
   * Newest first; `cursor` is opaque (from the previous page's `nextCursor`). With `clientKey`, only
   * the sessions created by that client.
   */
  listSessions(
    opts: { limit: number; cursor?: string | null; clientKey?: string; ownerKey?: string },
  ): Promise<{ sessions: SessionRow[]; nextCursor: string | null }>;
  /** Deletes the session, its utterances and events; false when it did not exist. */
  deleteSession(id: string): Promise<boolean>;
  /**
   * Records one server event (idempotent by `event_id`) and folds it into the utterances
   * (idempotent by `item_id`). With `callId`, the event's audio times are folded with that call's
   * offset (see {@linkcode CallRow}); the event itself is stored as received. Returns the stored
   * row, or null when it was a duplicate.
   */
  recordEvent(
    sessionId: string,
    event: Record<string, unknown>,
    options?: { callId?: string | null },
  ): Promise<EventRow | null>;
  /**
   * The calls the session was bound to, first first. A call is recorded the first time
   * `createSession` or `updateSession` sets it as the session's `callId`.
   */
  listCalls(sessionId: string): Promise<CallRow[]>;
  /** Events with `seq > afterSeq`, oldest first. */
  listEvents(
    sessionId: string,
    opts?: { afterSeq?: number; limit?: number },
  ): Promise<EventRow[]>;
  /** Sequence number of the newest stored event (0 when none). */
  lastEventSeq(sessionId: string): Promise<number>;
  /** Utterances in spoken order (by `previous_item_id` chain). */
  listUtterances(sessionId: string): Promise<UtteranceRow[]>;
  /**
   * Gap repair: merges finals the browser saw; marks ones only it saw as `seenBy: "browser"`.
   * Their times must already be session-relative (the page adds the call offsets it got from
   * {@linkcode Store.listCalls}); times the server folded win. With `maxBytes`, the page's writes
   * to the session stop at that many bytes in all (counted in the writing statements, so parallel
   * requests cannot overshoot), and the answer adds `bytes` written and how many utterances were
   * `refused` for want of room.
   */
  mergeBrowserUtterances(
    sessionId: string,
    utterances: Array<
      Pick<
        UtteranceRow,
        | "itemId"
        | "previousItemId"
        | "text"
        | "startMs"
        | "endMs"
        | "confidence"
      >
    >,
    options?: { maxBytes?: number },
  ): Promise<{ added: number; confirmed: number; bytes?: number; refused?: number }>;
  /** Retention (see {@linkcode PruneOptions}); returns how many sessions were deleted. */
  prune(opts: PruneOptions): Promise<number>;
  /**
   * Fixed-window counter for rate limits and budgets, shared by every process using the store.
   * Adds `amount` to `key` in the window containing `now` and returns the new total.
   */
  incrementCounter(
    key: string,
    windowMs: number,
    amount?: number,
    now?: number,
  ): Promise<number>;
  /** Reads a counter without changing it. */
  readCounter(key: string, windowMs: number, now?: number): Promise<number>;
  /**
   * Live calls (each session weighs its {@linkcode NewSession.calls}) of the sessions with status
   * `pending` or `live` created at or after `since` (unix ms), optionally only
   * those with this `clientKey`. A `pending` session that never got a call id and never ran counts
   * only when it was created at or after `pendingSince` (a pre-minted key nobody used stops holding a
   * slot when it expires); one continuing on a new call keeps counting. Used by the concurrency
   * limits (`lib/security/limits.ts`).
   */
  countActiveSessions(
    opts: { since: number; clientKey?: string; pendingSince?: number },
  ): Promise<number>;
  /**
   * Counts one mint attempt and reads every figure the mint limits need, atomically and in one
   * round trip (on Val Town each Store call is an HTTP request).
   */
  tallyMint(input: MintTallyInput): Promise<MintTally>;
  /**
   * The learned rules (options OpenAI refused for a model) that have not expired at `now`, every
   * model's.
   */
  listLearnedRules(now: number): Promise<LearnedRuleRow[]>;
  /** Records (or renews) the rule for its `model` + `option`; drops expired rules. */
  recordLearnedRule(rule: LearnedRuleRow): Promise<void>;
  /**
   * The call ended (hung up, or its sideband ended): it no longer holds the extra slot a
   * continuation gave it (see {@linkcode MintAdmit}).
   */
  releaseCall(callId: string): Promise<void>;
  /** The id of the session a call was EVER bound to (its first), or null. */
  sessionIdOfCall(callId: string): Promise<string | null>;
  /** The `clientKey` a session was created with, or null (for charging its usage). */
  sessionClientKey(id: string): Promise<string | null>;
  /** {@linkcode NewSession.calls} of a session (1 when unknown), for charging its usage. */
  sessionCalls(id: string): Promise<number>;
  /**
   * Stores translated-text deltas (idempotent by session, language and event id) unless the
   * session would hold more than `cap`; null when refused (nothing written).
   */
  recordTranslationDeltas(
    sessionId: string,
    deltas: readonly NewTranslationDelta[],
    opts: { cap: number },
  ): Promise<{ added: number; duplicates: number } | null>;
  /** A session's translation deltas with `seq > afterSeq`, in stored order. */
  listTranslationDeltas(
    sessionId: string,
    opts?: { afterSeq?: number; limit?: number },
  ): Promise<TranslationDeltaRow[]>;
  /**
   * Binds a session to its owner (an HMAC of the client-id cookie, `lib/security/client_id.ts`),
   * if it has none yet. Write-only like the client key: never part of a {@linkcode SessionRow}.
   */
  setSessionOwner(id: string, ownerKey: string): Promise<void>;
  /** The owner key bound to a session, or null. */
  sessionOwnerKey(id: string): Promise<string | null>;
  /**
   * Stores `value` under `key` unless a value is already there, and returns the stored one: every
   * process that asks at once gets the same answer (`lib/security/secrets.ts`).
   */
  ensureSetting(key: string, value: string): Promise<string>;
  close(): Promise<void>;
}

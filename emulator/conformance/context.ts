/**
 * What a conformance case works with: check recording (expected vs observed, with the source of
 * the expectation), open-question probes, and target-independent helpers for REST, WebSockets,
 * espeak-ng speech and a WebRTC client peer. Emulator-only helpers (the transcript queue) do
 * nothing against OpenAI, so one case body serves both targets.
 *
 * @module
 */
import { readWav } from "../audio.ts";
import { appendAudio, type Ev, EventSocket, readAnswer } from "../testkit.ts";
import { makeSpeechWav, makeUtterancesWav, type SpeechWav } from "../../testing/speech.ts";
import { type ClientPeer, createClientPeer } from "./peer.ts";
import type { Target } from "./target.ts";
import type { CheckResult, Question, QuestionResult } from "./types.ts";

/** Where emulator-only expectations come from. */
export const EMULATOR_DESIGN = "emulator design (docs/emulator.md)";

/** A REST answer. */
export interface RestAnswer {
  status: number;
  headers: Headers;
  json: Ev | null;
  text: string;
}

/** Canonical JSON (sorted keys), so equal values compare equal. */
export function canonical(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}

function shown(value: unknown): string {
  return typeof value === "string" ? value : canonical(value);
}

/** The words of a text, lower case, without punctuation. */
export function words(text: string): string[] {
  return text.toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").split(/\s+/).filter(Boolean);
}

/** Share of `expected`'s words found in `heard` (1 = every word heard). */
export function wordRecall(expected: string, heard: string): number {
  const want = words(expected);
  const got = new Set(words(heard));
  return want.length ? want.filter((w) => got.has(w)).length / want.length : 1;
}

/** Checks and helpers of one case run. */
export class CaseContext {
  readonly target: Target;
  readonly caseId: string;
  readonly source: string;
  readonly results: CheckResult[] = [];
  readonly questions = new Map<string, QuestionResult>();
  #cleanups: (() => unknown)[] = [];

  constructor(target: Target, caseId: string, source: string) {
    this.target = target;
    this.caseId = caseId;
    this.source = source;
  }

  /** Whether the target is OpenAI. */
  get live(): boolean {
    return this.target.kind === "live";
  }

  /** How long to wait for an event (OpenAI's latencies are ~1.4 s; the emulator's are fast). */
  get timeoutMs(): number {
    return this.live ? 20_000 : 5_000;
  }

  /**
   * Records a check: passes when `observed` equals `expected` (canonical JSON), or when `ok`
   * says so. Returns whether it passed.
   */
  check(
    what: string,
    expected: unknown,
    observed: unknown,
    options: { source?: string; ok?: boolean } = {},
  ): boolean {
    const ok = options.ok ?? canonical(expected) === canonical(observed);
    this.results.push({
      caseId: this.caseId,
      what,
      expected: shown(expected),
      observed: shown(observed),
      status: ok ? "pass" : "fail",
      source: options.source ?? this.source,
    });
    return ok;
  }

  /** A check that `observed` matches `pattern`. */
  match(what: string, pattern: RegExp, observed: unknown, source?: string): boolean {
    const text = typeof observed === "string" ? observed : canonical(observed);
    return this.check(what, String(pattern), text, {
      source,
      ok: typeof observed === "string" && pattern.test(observed),
    });
  }

  /** A check of the emulator's own design (not recorded against OpenAI). */
  emulatorOnly(what: string, expected: unknown, observed: unknown, ok?: boolean): void {
    if (this.live) return;
    this.check(what, expected, observed, { source: EMULATOR_DESIGN, ok });
  }

  /**
   * Probes an open question: against the emulator a check of its default assumption; against
   * OpenAI an observation for the report (never a failure).
   */
  question(q: Question, what: string, assumption: unknown, observed: unknown): void {
    const entry = this.questions.get(q.id) ?? {
      id: q.id,
      question: q.question,
      emulatorDefault: q.emulatorDefault,
      observations: [],
    };
    entry.observations.push({ what, observed: shown(observed) });
    this.questions.set(q.id, entry);
    if (!this.live) {
      this.check(`${what} (open question)`, assumption, observed, {
        source: `open question: ${q.id}`,
      });
      return;
    }
    this.results.push({
      caseId: this.caseId,
      what,
      expected: `unknown (emulator: ${shown(assumption)})`,
      observed: shown(observed),
      status: "observed",
      source: `open question: ${q.id}`,
    });
  }

  /** Registers cleanup work, run after the case in reverse order. */
  defer(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }

  /** Runs the cleanups (errors are ignored: the case already has its results). */
  async cleanup(): Promise<void> {
    for (const fn of this.#cleanups.reverse()) {
      try {
        await fn();
      } catch { /* best effort */ }
    }
    this.#cleanups = [];
  }

  /** Sends a REST request to the target and reads the answer. */
  async request(path: string, init: RequestInit = {}): Promise<RestAnswer> {
    return await readAnswer(await fetch(this.target.baseUrl + path, init));
  }

  /** A JSON POST with the standard key (or `key`; null = none). */
  post(path: string, body?: unknown, key: string | null = this.target.apiKey): Promise<RestAnswer> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    return this.request(path, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Mints a client secret for `session`; returns the whole answer. */
  mint(session: unknown, extra: Ev = {}): Promise<RestAnswer> {
    return this.post("/v1/realtime/client_secrets", {
      ...extra,
      ...(session === undefined ? {} : { session }),
    });
  }

  /** `ws(s)://…<path>?<query>` (`path` defaults to `/v1/realtime`). */
  wsUrl(query: string, path = "/v1/realtime"): string {
    return `${this.target.baseUrl.replace(/^http/, "ws")}${path}?${query}`;
  }

  /**
   * Opens a recording WebSocket on `path` (default `/v1/realtime`; the Translation API's is
   * `/v1/realtime/translations`), closed after the case.
   */
  socket(
    query: string,
    init: { headers?: Record<string, string>; protocols?: string[] } = {
      headers: { Authorization: `Bearer ${this.target.apiKey}` },
    },
    path = "/v1/realtime",
  ): EventSocket {
    const s = new EventSocket(this.wsUrl(query, path), init);
    this.defer(async () => {
      s.opened.catch(() => {});
      await Promise.race([s.close(), new Promise((r) => setTimeout(r, 1000))]);
    });
    return s;
  }

  /** The first event of `type` on `s` (already received or future). */
  wait(s: EventSocket, type: string, pred: (e: Ev) => boolean = () => true): Promise<Ev> {
    return s.waitFor(type, pred, this.timeoutMs);
  }

  /**
   * Opens `?intent=transcription`, waits for `session.created`, and applies `session` with a
   * `session.update` (waits for `session.updated`; an `error` instead throws).
   */
  async transcriptionSocket(session?: Ev): Promise<EventSocket> {
    const s = this.socket("intent=transcription");
    await s.opened;
    await this.wait(s, "session.created");
    if (session) await this.update(s, session);
    return s;
  }

  /** Sends a `session.update`; resolves with the next `session.updated` or `error` after it. */
  answerTo(s: EventSocket, session: Ev): Promise<Ev> {
    const n = s.events.length;
    s.send({ type: "session.update", session });
    const next = (e: Ev) => s.events.indexOf(e) >= n;
    return Promise.race([this.wait(s, "session.updated", next), this.wait(s, "error", next)]);
  }

  /** Sends a `session.update` and resolves with the next `session.updated` (or throws on `error`). */
  async update(s: EventSocket, session: Ev): Promise<Ev> {
    const answer = await this.answerTo(s, session);
    if (answer.type === "error") {
      throw new Error(`session.update refused: ${JSON.stringify(answer.error)}`);
    }
    return answer;
  }

  /** Queues transcript texts in the emulator (what it "hears"); nothing against OpenAI. */
  queue(texts: string[], id?: string): void {
    this.target.emulator?.control.queueTranscripts(texts, id);
  }

  /** Queues translated texts for `language` in the emulator; nothing against OpenAI. */
  queueTranslations(language: string, texts: string[], id?: string): void {
    this.target.emulator?.control.queueTranslations(language, texts, id);
  }

  /** espeak-ng speech at 24 kHz with its true speech region. */
  async speech(
    text: string,
    options: { padStartSec?: number; padEndSec?: number } = {},
  ): Promise<{ wav: SpeechWav; pcm: Int16Array }> {
    const wav = await makeSpeechWav(text, {
      sampleRate: 24000,
      padStartSec: options.padStartSec ?? 0.8,
      padEndSec: options.padEndSec ?? 1.2,
    });
    return { wav, pcm: readWav(await Deno.readFile(wav.path)).samples };
  }

  /** Several espeak-ng utterances in one 24 kHz file (silence before, between and after). */
  async utterances(
    texts: string[],
    gapSec = 1.2,
    pad: { startSec?: number; endSec?: number } = {},
  ) {
    const wav = await makeUtterancesWav(texts, {
      sampleRate: 24000,
      padStartSec: pad.startSec ?? 0.5,
      padEndSec: pad.endSec ?? 1.5,
      gapSec,
    });
    return { wav, pcm: readWav(await Deno.readFile(wav.path)).samples };
  }

  /** Appends PCM16 to a socket in 100 ms `input_audio_buffer.append` events. */
  append(s: EventSocket, pcm: Int16Array): void {
    appendAudio(s, pcm);
  }

  /** A WebRTC client peer with its offer (closed after the case). */
  async peer(): Promise<ClientPeer> {
    const p = await createClientPeer({ loopback: !this.live });
    this.defer(() => p.close());
    return p;
  }

  /**
   * Posts a raw SDP offer with `key` to `path` (default `/v1/realtime/calls`; the Translation
   * API's is `/v1/realtime/translations/calls`); returns the answer and the call id from
   * `Location`. The call is hung up after the case.
   */
  async rawCall(
    sdp: string,
    key: string,
    path = "/v1/realtime/calls",
  ): Promise<RestAnswer & { callId: string | null }> {
    const r = await this.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/sdp" },
      body: sdp,
    });
    const loc = r.headers.get("location");
    const callId = loc ? loc.split("/").pop()! : null;
    if (callId) this.defer(() => this.hangup(callId, path.replace(/\?.*$/, "")));
    return { ...r, callId };
  }

  /**
   * Lets a secret minted with the shortest lifetime (10 s) expire: at once on the emulator (its
   * record is the secret's only state), by waiting it out against OpenAI.
   */
  async expireSecret(value: string): Promise<void> {
    const record = this.target.emulator?.control.state.secrets.get(value);
    if (record) record.expiresAt = Date.now() / 1000 - 1;
    else if (this.live) await new Promise((r) => setTimeout(r, 11_000));
  }

  /** Hangs a call up with the standard key on `<base>/<id>/hangup`; returns the status. */
  async hangup(callId: string, base = "/v1/realtime/calls"): Promise<number> {
    return (await this.post(`${base}/${callId}/hangup`, {})).status;
  }

  /** A WebSocket handshake by hand (to read a refusal's HTTP status and body). */
  async handshake(query: string, key: string, path = "/v1/realtime"): Promise<RestAnswer> {
    return await this.request(`${path}?${query}`, {
      headers: {
        authorization: `Bearer ${key}`,
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
  }
}

/**
 * Scripted transcription of committed items: deltas, `completed` / `failed` after
 * the configured latency, logprobs, usage, and the out-of-order fault.
 *
 * @module
 */
import type { EngineHost, ServerEventBody, SessionStats } from "./engine.ts";
import { randomToken } from "./ids.ts";
import * as ev from "./events.ts";
import { type EffectiveSession, LOGPROBS_INCLUDE, transcriptionModel } from "./session_schema.ts";
import { placeholder, splitDeltas, synthLogprobs, synthUsage } from "./transcripts.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** What a {@linkcode Transcriber} needs from its session. */
export interface TranscriberContext {
  host: EngineHost;
  queueKeys: string[];
  stats: SessionStats;
  emit(body: ServerEventBody): void;
  /** Runs `fn` after `ms` unless the session ended; returns a timer id. */
  later(fn: () => void, ms: number): number;
  cancel(timer: number): void;
  config(): EffectiveSession;
  /** Records an item's final transcript (for `conversation.item.retrieve`). */
  transcribed(item: string, text: string): void;
}

/** Produces the transcription events of one session. */
export class Transcriber {
  #ctx: TranscriberContext;
  #heldCompleted: { event: ServerEventBody; timer: number } | null = null;

  /** Creates a transcriber bound to a session context. */
  constructor(ctx: TranscriberContext) {
    this.#ctx = ctx;
  }

  /** Emits one delta (with logprobs and obfuscation as configured). */
  emitDelta(item: string, delta: string): void {
    const body = ev.delta(
      item,
      delta,
      this.logprobs() ? synthLogprobs(delta) : undefined,
    );
    // The live API adds an undocumented `obfuscation` string to deltas.
    if (this.#ctx.host.options.deltaObfuscation) {
      this.#ctx.emit(
        { ...body, obfuscation: randomToken(11) } as ServerEventBody,
      );
    } else this.#ctx.emit(body);
  }

  /** Whether logprobs were requested and the model sends them (`omitLogprobsModels`). */
  logprobs(): boolean {
    const inc = this.#ctx.config().include as string[] | null | undefined;
    const model = transcriptionModel(this.#ctx.config());
    return !!inc?.includes(LOGPROBS_INCLUDE) && model !== null &&
      this.#ctx.host.models.sendsLogprobs(model);
  }

  /** Schedules deltas and `completed` (or `failed`) for a committed item. */
  transcribe(
    item: string,
    model: string,
    durationMs: number,
    streamed: { text: string; chunks: string[]; sent: number } | null,
  ): void {
    const { firstDeltaDelayMs, completedDelayMs } = this.#ctx.host.options;
    const done = Math.max(firstDeltaDelayMs, completedDelayMs);
    if (this.#ctx.host.faults.takeTranscriptionFailure()) {
      this.#ctx.later(() => {
        this.#ctx.stats.failed++;
        this.#ctx.emit(ev.failed(item));
      }, done);
      return;
    }
    const text = streamed?.text ??
      this.#ctx.host.transcripts.take(this.#ctx.queueKeys) ??
      placeholder(durationMs);
    const chunks = streamed
      ? streamed.chunks.slice(streamed.sent)
      : model === "whisper-1"
      ? [text]
      : splitDeltas(text);
    const step = chunks.length > 1 ? (done - firstDeltaDelayMs) / chunks.length : 0;
    chunks.forEach((c, i) =>
      this.#ctx.later(
        () => this.emitDelta(item, c),
        firstDeltaDelayMs + i * step,
      )
    );
    this.#ctx.later(() => {
      const extra: Parameters<typeof ev.completed>[3] = {};
      if (this.logprobs()) {
        extra.logprobs = splitDeltas(text).flatMap(synthLogprobs);
      }
      if (model === "gpt-transcribe" || model === "gpt-live-transcribe") {
        const t: Json = this.#ctx.config().audio?.input?.transcription;
        const code = t?.languages?.[0] ?? t?.language ?? "en";
        extra.languages = [{ code }];
      }
      const body = ev.completed(
        item,
        text,
        synthUsage(model, durationMs, text),
        extra,
      );
      this.#ctx.stats.completed++;
      this.#ctx.transcribed(item, text);
      this.#emitCompleted(body);
    }, done + 1);
  }

  #emitCompleted(body: ServerEventBody): void {
    if (!this.#ctx.host.faults.outOfOrderCompleted) {
      if (this.#heldCompleted) this.#flushHeld();
      this.#ctx.emit(body);
      return;
    }
    if (this.#heldCompleted) {
      this.#ctx.emit(body);
      this.#flushHeld();
      return;
    }
    const timer = this.#ctx.later(() => this.#flushHeld(), 5000);
    this.#heldCompleted = { event: body, timer };
  }

  #flushHeld(): void {
    const held = this.#heldCompleted;
    if (!held) return;
    this.#heldCompleted = null;
    this.#ctx.cancel(held.timer);
    this.#ctx.emit(held.event);
  }
}

/**
 * Scripted transcript text. The emulator cannot recognise speech: text comes from a
 * FIFO queue filled through the control API; with an empty queue a clearly marked
 * placeholder like `[speech 1.8 s]` (translated text: `[es · speech 1.8 s]`) is used.
 * Also splits text into deltas and synthesizes logprobs and usage.
 *
 * @module
 */
import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  LogProbProperties,
} from "../lib/openai_types.ts";

/** One FIFO of texts, global and per call. */
class Fifo {
  global: string[] = [];
  perCall = new Map<string, string[]>();

  push(texts: string[], callId?: string): void {
    if (!callId) {
      this.global.push(...texts);
      return;
    }
    const q = this.perCall.get(callId) ?? [];
    q.push(...texts);
    this.perCall.set(callId, q);
  }

  take(ids: string[]): string | null {
    for (const id of ids) {
      const q = this.perCall.get(id);
      if (q?.length) return q.shift()!;
    }
    return this.global.shift() ?? null;
  }

  snapshot(): { global: string[]; perCall: Record<string, string[]> } {
    return {
      global: [...this.global],
      perCall: Object.fromEntries(this.perCall),
    };
  }
}

/**
 * Global and per-call FIFO queues of transcript texts: one for source-language transcripts and
 * one per output language for translated text (Translation sessions).
 */
export class TranscriptQueue {
  #source = new Fifo();
  #languages = new Map<string, Fifo>();

  /** Appends texts to the global queue, or to one call's queue; of one output language if given. */
  push(texts: string[], callId?: string, language?: string): void {
    if (language === undefined) return this.#source.push(texts, callId);
    const q = this.#languages.get(language) ?? new Fifo();
    q.push(texts, callId);
    this.#languages.set(language, q);
  }

  /**
   * Takes the next text for `ids` (per-call queues first, then global), or null; from the queue
   * of output language `language` when given.
   */
  take(ids: string[], language?: string): string | null {
    const q = language === undefined ? this.#source : this.#languages.get(language);
    return q?.take(ids) ?? null;
  }

  /** Texts waiting: global and per call, and the same per output language. */
  snapshot(): {
    global: string[];
    perCall: Record<string, string[]>;
    languages: Record<string, { global: string[]; perCall: Record<string, string[]> }>;
  } {
    return {
      ...this.#source.snapshot(),
      languages: Object.fromEntries(
        [...this.#languages].map(([language, q]) => [language, q.snapshot()]),
      ),
    };
  }

  /** Empties every queue. */
  clear(): void {
    this.#source = new Fifo();
    this.#languages.clear();
  }
}

/** The placeholder used when no text is queued: `[speech 1.8 s]`. */
export function placeholder(durationMs: number): string {
  return `[speech ${(Math.max(0, durationMs) / 1000).toFixed(1)} s]`;
}

/** The placeholder for translated text when none is queued: `[es · speech 1.8 s]`. */
export function translationPlaceholder(language: string, durationMs: number): string {
  return `[${language} · ${placeholder(durationMs).slice(1)}`;
}

/** Splits text into word-ish chunks whose concatenation is the text: `["Hello", " world."]`. */
export function splitDeltas(text: string): string[] {
  return text.match(/\s*\S+/g) ?? (text ? [text] : []);
}

/**
 * Synthesized logprobs for a chunk: one entry per chunk, a deterministic
 * logprob in [-0.5, -0.01] derived from the text, and its UTF-8 bytes.
 */
export function synthLogprobs(chunk: string): LogProbProperties[] {
  let h = 0;
  for (const c of chunk) h = (h * 31 + c.codePointAt(0)!) >>> 0;
  const logprob = -(0.01 + (h % 50) / 100);
  return [{
    token: chunk,
    logprob,
    bytes: Array.from(new TextEncoder().encode(chunk)),
  }];
}

/** Usage for a finished transcript: duration for whisper-1, tokens otherwise. */
export function synthUsage(
  model: string,
  audioMs: number,
  text: string,
): ConversationItemInputAudioTranscriptionCompletedEvent["usage"] {
  if (model === "whisper-1") {
    return {
      type: "duration",
      seconds: Math.max(1, Math.round(audioMs / 1000)),
    };
  }
  const audioTokens = Math.max(1, Math.ceil(audioMs / 100));
  const outputTokens = Math.max(1, Math.ceil(text.length / 4));
  return {
    type: "tokens",
    total_tokens: audioTokens + outputTokens,
    input_tokens: audioTokens,
    input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
    output_tokens: outputTokens,
  };
}

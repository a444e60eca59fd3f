/**
 * Set-up for the share viewer's browser tests, the axe suite and the screenshots: a stored
 * session with caption lines written as the sideband records them (raw Realtime events through
 * `Store.recordEvent`), so the viewer loads a backlog and then follows new lines over SSE.
 *
 * @module
 */
import type { Store } from "../lib/store/types.ts";

const T = "conversation.item.input_audio_transcription.";

/** What one seeded line says: its words and, optionally, a confidence (null = no logprobs). */
export interface SeedLine {
  text: string;
  /** Mean token probability 0..1; null sends `completed` without logprobs. Default 0.93. */
  confidence?: number | null;
  /** Stop after the deltas (a partial line). */
  partial?: boolean;
}

/** The raw events of one spoken line, as the sideband records them. */
export function lineEvents(
  item: string,
  prev: string | null,
  line: SeedLine,
  startMs: number,
): Record<string, unknown>[] {
  const words = line.text.split(" ");
  const confidence = line.confidence === undefined ? 0.93 : line.confidence;
  const completed: Record<string, unknown> = {
    type: T + "completed",
    item_id: item,
    transcript: line.text,
  };
  if (confidence !== null) {
    completed.logprobs = [{ token: line.text, logprob: Math.log(confidence), bytes: [] }];
  }
  const events = [
    { type: "input_audio_buffer.speech_started", item_id: item, audio_start_ms: startMs },
    {
      type: "input_audio_buffer.speech_stopped",
      item_id: item,
      audio_end_ms: startMs + 1500,
    },
    { type: "input_audio_buffer.committed", item_id: item, previous_item_id: prev },
    ...words.map((w, i) => ({ type: T + "delta", item_id: item, delta: (i ? " " : "") + w })),
    ...(line.partial ? [] : [completed]),
  ];
  return events.map((e, i) => ({ ...e, event_id: `event_${item}_${i}` }));
}

/** A seeded session: its id, and a way to add lines while the viewer watches. */
export interface SeededSession {
  id: string;
  /** Records more lines (numbered after the ones already there). */
  add(lines: SeedLine[]): Promise<void>;
  /** Ends the session as a hang-up does. */
  end(): Promise<void>;
}

/** Creates a live session with `lines` recorded on its call. */
export async function seedSession(store: Store, lines: SeedLine[]): Promise<SeededSession> {
  const { id } = await store.createSession({
    source: "webrtc",
    model: "gpt-transcribe",
    settings: {},
  });
  await store.updateSession(id, {
    status: "live",
    startedAt: Date.now(),
    callId: `rtc_seed_${id.slice(0, 8)}`,
  });
  let n = 0;
  const add = async (more: SeedLine[]) => {
    for (const line of more) {
      const item = `item_${String(++n).padStart(4, "0")}`;
      const prev = n > 1 ? `item_${String(n - 1).padStart(4, "0")}` : null;
      for (const e of lineEvents(item, prev, line, (n - 1) * 2000)) {
        await store.recordEvent(id, e);
      }
    }
  };
  await add(lines);
  return {
    id,
    add,
    end: () =>
      store.updateSession(id, { status: "ended", endedAt: Date.now(), endReason: "hangup" }),
  };
}

/** Sentences for seeded transcripts (cycled). */
export const SAMPLE_SENTENCES: readonly string[] = [
  "Welcome everyone, and thank you for coming to the talk this evening.",
  "Tonight we look at how live captions reach people who cannot hear the room.",
  "The first part is about the microphone and where it should be placed.",
  "A good microphone close to the speaker matters more than any software.",
  "Then we follow the words from the browser to the server and back to you.",
  "Questions are welcome at the end, or in the shared document at any time.",
];

/** `n` sample lines, cycling through {@linkcode SAMPLE_SENTENCES}. */
export function sampleLines(n: number): SeedLine[] {
  return Array.from({ length: n }, (_, i) => ({
    text: SAMPLE_SENTENCES[i % SAMPLE_SENTENCES.length],
  }));
}

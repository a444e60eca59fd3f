/**
 * A load driver for the emulator's WebSocket-audio mode (`/v1/realtime?intent=transcription`):
 * many sessions, each streaming the same 24 kHz PCM16 speech at real-time pace in
 * `input_audio_buffer.append` chunks, with every received server event timestamped.
 *
 * Chunks are encoded once and shared by all sessions, so the driver itself stays cheap.
 *
 * @module
 */

/** A server event as received, with the driver's arrival time (`performance.now()`). */
export interface Received {
  type: string;
  event: Record<string, unknown>;
  at: number;
}

/** Options for {@linkcode openAudioSession}. */
export interface AudioSessionOptions {
  /** Emulator base URL (`http://127.0.0.1:port`). */
  baseUrl: string;
  apiKey: string;
  /** Transcription model set with `session.update` (default `gpt-transcribe`). */
  model?: string;
  /** `silence_duration_ms` of server VAD (default 200). */
  silenceDurationMs?: number;
  /** Called for every server event. */
  onEvent?: (ev: Received) => void;
  /** Give up opening after this many ms (default 15 000). */
  timeoutMs?: number;
}

/** One open WebSocket-audio session. */
export interface AudioSession {
  /** The session id from `session.created` (`sess_…`). */
  sessionId: string;
  ws: WebSocket;
  received: Received[];
  /** When set, every later server event is also passed on as raw text (see `bench/relay.ts`). */
  forward: ((text: string) => void) | null;
  /** Sends one pre-encoded `input_audio_buffer.append` message. */
  send: (message: string) => void;
  close: () => void;
}

/** Opens `?intent=transcription`, configures it, and resolves after `session.updated`. */
export function openAudioSession(
  options: AudioSessionOptions,
): Promise<AudioSession> {
  const url = options.baseUrl.replace(/^http/, "ws") +
    "/v1/realtime?intent=transcription";
  // Deno's options bag carries the Authorization header (a server-side client, like the app).
  const ws = new WebSocket(url, {
    headers: { Authorization: `Bearer ${options.apiKey}` },
  } as unknown as string[]);
  const received: Received[] = [];
  let forward: ((text: string) => void) | null = null;
  return new Promise((resolve, reject) => {
    let sessionId = "";
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        ws.close();
      } catch {
        // Already closed.
      }
      reject(new Error(message));
    };
    const timer = setTimeout(
      () => fail("Audio session did not open in time"),
      options.timeoutMs ?? 15_000,
    );
    ws.onerror = () => fail("Audio session WebSocket failed");
    ws.onclose = (e) => fail(`Audio session closed while opening (${e.code} ${e.reason})`);
    ws.onmessage = (m) => {
      const at = performance.now();
      forward?.(String(m.data));
      const event = JSON.parse(String(m.data)) as Record<string, unknown>;
      const rec = { type: String(event.type), event, at };
      received.push(rec);
      options.onEvent?.(rec);
      if (settled) return;
      if (rec.type === "session.created") {
        sessionId = String((event.session as { id?: string })?.id ?? "");
        ws.send(JSON.stringify({
          type: "session.update",
          session: {
            type: "transcription",
            audio: {
              input: {
                format: { type: "audio/pcm", rate: 24000 },
                transcription: { model: options.model ?? "gpt-transcribe" },
                turn_detection: {
                  type: "server_vad",
                  silence_duration_ms: options.silenceDurationMs ?? 200,
                },
              },
            },
          },
        }));
      } else if (rec.type === "session.updated") {
        settled = true;
        clearTimeout(timer);
        ws.onclose = null;
        ws.onerror = null;
        resolve({
          sessionId,
          ws,
          received,
          get forward() {
            return forward;
          },
          set forward(f) {
            forward = f;
          },
          send: (message) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(message);
          },
          close: () => {
            try {
              ws.close();
            } catch {
              // Already closed.
            }
          },
        });
      } else if (rec.type === "error") {
        fail(`Audio session error: ${JSON.stringify(event.error)}`);
      }
    };
  });
}

/** Splits 24 kHz PCM16 into `input_audio_buffer.append` JSON messages of `chunkMs` each. */
export function encodeChunks(samples: Int16Array, chunkMs = 100): string[] {
  const per = 24 * chunkMs;
  const out: string[] = [];
  for (let i = 0; i < samples.length; i += per) {
    const part = samples.subarray(i, Math.min(samples.length, i + per));
    const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    out.push(
      JSON.stringify({
        type: "input_audio_buffer.append",
        audio: bytes.toBase64(),
      }),
    );
  }
  return out;
}

/** Options for {@linkcode streamRealtime}. */
export interface StreamOptions {
  chunkMs: number;
  /** Spread session start times over one chunk interval (default true). */
  stagger?: boolean;
  /** Spread session start times evenly over this many ms instead (e.g. several seconds). */
  spreadMs?: number;
  /** Called with `performance.now()` when session `i` sends chunk `k` (for lag measurement). */
  onChunk?: (session: number, chunk: number, at: number) => void;
}

/**
 * Streams `chunks` to every session at real-time pace (one chunk per `chunkMs` per session) and
 * resolves when all are sent. Returns each session's start time. Sessions share one ticker, so
 * 200 sessions cost one timer, not 200.
 */
export async function streamRealtime(
  sessions: readonly AudioSession[],
  chunks: readonly string[],
  options: StreamOptions,
): Promise<number[]> {
  const { chunkMs } = options;
  const t0 = performance.now();
  const offsets = sessions.map((_, i) =>
    options.stagger === false
      ? 0
      : (i / Math.max(1, sessions.length)) * (options.spreadMs ?? chunkMs)
  );
  const starts = offsets.map((o) => t0 + o);
  const next = sessions.map(() => 0);
  const tick = 5;
  while (next.some((k) => k < chunks.length)) {
    const now = performance.now();
    for (let i = 0; i < sessions.length; i++) {
      // Send every chunk whose time has come (catching up if the event loop was late).
      while (next[i] < chunks.length && starts[i] + next[i] * chunkMs <= now) {
        sessions[i].send(chunks[next[i]]);
        options.onChunk?.(i, next[i], now);
        next[i]++;
      }
    }
    await new Promise((r) => setTimeout(r, tick));
  }
  return starts;
}

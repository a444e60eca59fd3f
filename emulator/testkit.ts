/**
 * Helpers for the emulator's own tests: start an emulator, call REST, and open
 * WebSockets that record server events with `waitFor`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "./mod.ts";

/** Fast latencies for tests. */
export const FAST: EmulatorOptions = {
  firstDeltaDelayMs: 20,
  completedDelayMs: 60,
  sessionUpdatedDelayMs: 0,
};

/** Starts an emulator with fast latencies (plus `options`). */
export function startTestEmulator(
  options: EmulatorOptions = {},
): Promise<RunningEmulator> {
  return startEmulator({ ...FAST, ...options });
}

/** A server event as parsed JSON. */
// deno-lint-ignore no-explicit-any
export type Ev = Record<string, any>;

/** A recording WebSocket client. */
export class EventSocket {
  readonly ws: WebSocket;
  readonly events: Ev[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #waiters: {
    pred: (e: Ev) => boolean;
    resolve: (e: Ev) => void;
    from: number;
  }[] = [];

  constructor(
    url: string,
    init?: { headers?: Record<string, string>; protocols?: string[] },
  ) {
    // Deno's WebSocket accepts a `headers` options bag.
    // deno-lint-ignore no-explicit-any
    const opts: any = init?.headers
      ? { headers: init.headers, protocols: init.protocols }
      : init?.protocols;
    this.ws = new WebSocket(url, opts);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener(
        "error",
        (e) => reject(new Error(`WebSocket error: ${(e as ErrorEvent).message}`)),
        { once: true },
      );
    });
    this.closed = new Promise((resolve) =>
      this.ws.addEventListener("close", (e) => resolve(e), { once: true })
    );
    this.ws.addEventListener("message", (m) => {
      const ev = JSON.parse(m.data as string);
      this.events.push(ev);
      for (const w of [...this.#waiters]) {
        if (w.pred(ev)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      }
    });
  }

  /** Sends a client event as JSON. */
  send(event: Ev): void {
    this.ws.send(JSON.stringify(event));
  }

  /** Resolves with the first event (already received or future) matching `type`/`pred`. */
  waitFor(
    type: string,
    pred: (e: Ev) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Ev> {
    const match = (e: Ev) => e.type === type && pred(e);
    const have = this.events.find(match);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `Timed out waiting for ${type}; got ${this.events.map((e) => e.type).join(", ")}`,
          ),
        );
      }, timeoutMs);
      const done = (e: Ev) => {
        clearTimeout(t);
        resolve(e);
      };
      this.#waiters.push({
        pred: match,
        resolve: done,
        from: this.events.length,
      });
    });
  }

  /** Event types received so far. */
  types(): string[] {
    return this.events.map((e) => e.type);
  }

  /** Closes the socket and waits for the close event. */
  async close(): Promise<void> {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close();
    await this.closed;
  }
}

/** `ws://` URL of the Realtime endpoint with a query. */
export function wsUrl(emu: RunningEmulator, query: string): string {
  return `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime?${query}`;
}

/** The concatenated `delta` of every event of `type` (the text a stream of deltas makes). */
export function deltaText(events: Ev[], type: string): string {
  return events.filter((e) => e.type === type).map((e) => e.delta).join("");
}

/** `ws://…/v1/realtime/translations?<query>` of an emulator. */
export function translationsUrl(emu: RunningEmulator, query: string): string {
  return `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime/translations?${query}`;
}

/** Opens `/v1/realtime/translations?model=gpt-realtime-translate` and waits for `session.created`. */
export async function translationSocket(
  emu: RunningEmulator,
  key = emu.apiKey,
): Promise<EventSocket> {
  const s = new EventSocket(translationsUrl(emu, "model=gpt-realtime-translate"), {
    headers: { Authorization: `Bearer ${key}` },
  });
  await s.opened;
  await s.waitFor("session.created");
  return s;
}

/** Opens an authenticated `?intent=transcription` socket and waits for `session.created`. */
export async function transcriptionSocket(
  emu: RunningEmulator,
  session?: Ev,
): Promise<EventSocket> {
  const s = new EventSocket(wsUrl(emu, "intent=transcription"), {
    headers: { Authorization: `Bearer ${emu.apiKey}` },
  });
  await s.opened;
  await s.waitFor("session.created");
  if (session) {
    const n = s.events.filter((e) => e.type === "session.updated").length;
    s.send({ type: "session.update", session });
    await s.waitFor(
      "session.updated",
      () => s.events.filter((e) => e.type === "session.updated").length > n,
    );
  }
  return s;
}

/** JSON POST with the emulator's key (or `key`). */
export async function post(
  emu: RunningEmulator,
  path: string,
  body?: unknown,
  key: string | null = emu.apiKey,
): Promise<
  { status: number; headers: Headers; json: Ev | null; text: string }
> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(emu.baseUrl + path, {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await readAnswer(res);
}

/** Reads an answer's body as text and, when it is JSON, parsed. */
export async function readAnswer(
  res: Response,
): Promise<{ status: number; headers: Headers; json: Ev | null; text: string }> {
  const text = await res.text();
  let json: Ev | null = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

/** 24 kHz PCM16 silence of `ms` milliseconds. */
export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round(ms * 24));
}

/** A 24 kHz tone burst (loud enough for the VAD) of `ms` milliseconds. */
export function tone(ms: number, hz = 220, amplitude = 8000): Int16Array {
  const n = Math.round(ms * 24);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * hz * i / 24000));
  }
  return out;
}

/**
 * Sends PCM16 as `input_audio_buffer.append` events in 100 ms chunks (a translation session's
 * event is `session.input_audio_buffer.append`, pass it as `type`).
 */
export function appendAudio(
  s: EventSocket,
  pcm: Int16Array,
  chunkMs = 100,
  type: "input_audio_buffer.append" | "session.input_audio_buffer.append" =
    "input_audio_buffer.append",
): void {
  const n = chunkMs * 24;
  for (let off = 0; off < pcm.length; off += n) {
    const chunk = pcm.subarray(off, Math.min(off + n, pcm.length));
    const bytes = new Uint8Array(
      chunk.buffer,
      chunk.byteOffset,
      chunk.byteLength,
    );
    s.send({ type, audio: bytes.toBase64() });
  }
}

/** A real SDP offer (audio + `oai-events` data channel) from a werift client peer. */
export async function makeOffer(): Promise<
  { sdp: string; close: () => Promise<void> }
> {
  const { RTCPeerConnection } = await import("npm:werift@0.24.4");
  const pc = new RTCPeerConnection();
  pc.addTransceiver("audio", { direction: "sendrecv" });
  pc.createDataChannel("oai-events");
  await pc.setLocalDescription(await pc.createOffer());
  return { sdp: pc.localDescription!.sdp, close: () => pc.close() };
}

/**
 * Creates a call with a raw SDP offer and `key` (on `path`, default `/v1/realtime/calls`); returns
 * the response and call id.
 */
export async function createRawCall(
  emu: RunningEmulator,
  sdp: string,
  key: string = emu.apiKey,
  path = "/v1/realtime/calls",
): Promise<{ res: Response; answer: string; callId: string | null }> {
  const res = await fetch(`${emu.baseUrl}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/sdp",
    },
    body: sdp,
  });
  const answer = await res.text();
  const loc = res.headers.get("location");
  return { res, answer, callId: loc ? loc.split("/").pop()! : null };
}

/**
 * Polls `condition` every 20 ms until it holds.
 *
 * @param condition Checked on each poll.
 * @param timeoutMs Give up after this long.
 * @param what Named in the timeout error.
 * @throws {Error} "Timed out waiting for …" after `timeoutMs`.
 */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Asserts OpenAI's REST error envelope `{error:{message,type,param,code}}` with this code and param. */
export function assertEnvelope(
  json: unknown,
  code: string | null,
  param: string | null,
): void {
  // deno-lint-ignore no-explicit-any
  const e = (json as any)?.error;
  assert.ok(e, `no error envelope in ${JSON.stringify(json)}`);
  assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
  assert.equal(e.code, code, JSON.stringify(e));
  assert.equal(e.param, param, JSON.stringify(e));
  assert.equal(typeof e.message, "string");
}

/** A connected werift client call (see {@linkcode connectWeriftCall}). */
export interface WeriftCall {
  /** The client peer. */
  pc: import("npm:werift@0.24.4").RTCPeerConnection;
  /** Its `oai-events` channel. */
  dc: import("npm:werift@0.24.4").RTCDataChannel;
  /** Server events received on the channel, parsed. */
  events: Ev[];
  /** Opus payloads received on the audio track from the server, in arrival order. */
  audioPayloads: Uint8Array[];
  /** The call id from `Location`. */
  callId: string;
  /** The `Location` header. */
  location: string;
  /** Sends a client event on the channel. */
  send(event: Ev): void;
}

/**
 * Connects a werift client peer like a browser (audio transceiver `sendrecv` + `oai-events`):
 * posts its offer with `key` to `path`, applies the answer and waits for the first event.
 */
export async function connectWeriftCall(
  emu: RunningEmulator,
  options: { key?: string; path?: string } = {},
): Promise<WeriftCall> {
  const { RTCPeerConnection } = await import("npm:werift@0.24.4");
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceServers: [],
  });
  pc.addTransceiver("audio", { direction: "sendrecv" });
  const dc = pc.createDataChannel("oai-events");
  const events: Ev[] = [];
  const audioPayloads: Uint8Array[] = [];
  dc.onMessage.subscribe((data) =>
    events.push(JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data)))
  );
  pc.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => audioPayloads.push(new Uint8Array(rtp.payload)))
  );
  await pc.setLocalDescription(await pc.createOffer());
  await until(() => pc.iceGatheringState === "complete", 10_000, "ICE gathering");
  const { res, answer, callId } = await createRawCall(
    emu,
    pc.localDescription!.sdp,
    options.key ?? emu.apiKey,
    options.path,
  );
  assert.equal(res.status, 201, answer);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  await until(() => dc.readyState === "open", 20_000, "oai-events to open");
  await until(() => events.length > 0, 5000, "the first server event");
  return {
    pc,
    dc,
    events,
    audioPayloads,
    callId: callId!,
    location: res.headers.get("location")!,
    send: (event) => dc.send(JSON.stringify(event)),
  };
}

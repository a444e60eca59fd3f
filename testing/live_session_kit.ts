/**
 * Stand-ins for the browser parts of `frontend/live_session.js` (`frontend/live_session_test.ts`):
 * a manual clock, a call that is not WebRTC, a microphone, the page's VAD and the DOM ports that
 * record what the page would show. Everything else in those tests is real (the app, the emulator,
 * HTTP on loopback, the Store).
 *
 * @module
 */
import type { Utterance } from "../shared/transcript.js";
import type { LineFacts } from "../frontend/timeline.js";

type Timer = { at: number; fn: () => void; every?: number };

/** Lets promise chains and loopback I/O that are already due run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** A clock that moves only when told; timers run in time order as it passes them. */
export class ManualClock {
  #now = 1000;
  #timers = new Map<number, Timer>();
  #nextId = 1;
  now = (): number => this.#now;
  setTimeout = (fn: () => void, ms: number): number => this.#add({ at: this.#now + ms, fn });
  setInterval = (fn: () => void, ms: number): number =>
    this.#add({ at: this.#now + ms, fn, every: ms });
  clearInterval = (id: unknown): void => void this.#timers.delete(id as number);

  #add(timer: Timer): number {
    const id = this.#nextId++;
    this.#timers.set(id, timer);
    return id;
  }

  /** Moves `ms` ahead, running every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const due = [...this.#timers].filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#now = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.#timers.delete(id);
      timer.fn();
    }
    this.#now = end;
    await settle();
  }
}

/** The peer's `connectionState` and its change event, as `call_keeper.js` watches them. */
export class FakePeer extends EventTarget {
  connectionState: RTCPeerConnectionState = "connected";
  set(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
  getSenders(): RTCRtpSender[] {
    return [];
  }
}

// deno-lint-ignore no-explicit-any
type ConnectParams = any;

/** A connected call: the session's events and statuses come from the test. */
export class FakeCall {
  static #count = 0;
  callId = `rtc_fake${++FakeCall.#count}`;
  sessionId: string;
  pc = new FakePeer();
  channel = { readyState: "open" };
  stream = { getTracks: () => [] };
  path = "direct" as const;
  /** The server never attached (no WebRTC here): the page keeps its own call offsets. */
  sideband = Promise.resolve(false);
  sent: Record<string, unknown>[] = [];
  stopped = false;
  constructor(readonly params: ConnectParams) {
    this.sessionId = params.session.sessionId;
  }
  send(event: Record<string, unknown>) {
    this.sent.push(event);
    return true;
  }
  stop() {
    this.stopped = true;
    return Promise.resolve();
  }
  /** Server events on the data channel. */
  emit(...events: Record<string, unknown>[]) {
    for (const e of events) this.params.onEvent(e);
  }
  /** A status as `connect()` reports it. */
  status(status: string) {
    this.params.onStatus(status);
  }
}

/** The events of one turn: speech start and stop, commit, a delta, and (`final`) completed. */
export function transcriptEvents(
  itemId: string,
  text: string,
  times: { startMs: number; endMs: number; final?: boolean },
): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [
    {
      type: "input_audio_buffer.speech_started",
      event_id: `ev_${itemId}_1`,
      item_id: itemId,
      audio_start_ms: times.startMs,
    },
    {
      type: "input_audio_buffer.speech_stopped",
      event_id: `ev_${itemId}_2`,
      item_id: itemId,
      audio_end_ms: times.endMs,
    },
    { type: "input_audio_buffer.committed", event_id: `ev_${itemId}_3`, item_id: itemId },
    {
      type: "conversation.item.input_audio_transcription.delta",
      event_id: `ev_${itemId}_4`,
      item_id: itemId,
      content_index: 0,
      delta: text.slice(0, 3),
    },
  ];
  if (times.final) {
    events.push({
      type: "conversation.item.input_audio_transcription.completed",
      event_id: `ev_${itemId}_5`,
      item_id: itemId,
      content_index: 0,
      transcript: text,
    });
  }
  return events;
}

/** A microphone that opens (or refuses with `refuse`) and counts stopped tracks. */
export function fakeMicrophone() {
  const mic = {
    refuse: null as unknown,
    stoppedTracks: 0,
    open(): Promise<MediaStream> {
      if (mic.refuse) return Promise.reject(mic.refuse);
      const track = { stop: () => void mic.stoppedTracks++ };
      return Promise.resolve({ getTracks: () => [track] } as unknown as MediaStream);
    },
  };
  return mic;
}

/** The level meter and page VAD: the test sends speech edges and sets the last speech frame. */
export function fakeAudio() {
  const audio = {
    heard: null as number | null,
    silenceMs: 0,
    stopped: false,
    // deno-lint-ignore no-explicit-any
    onSpeech: (_edge: any) => {},
    // deno-lint-ignore no-explicit-any
    start(params: any) {
      audio.silenceMs = params.silenceMs;
      audio.onSpeech = params.onSpeech;
      return {
        setSilence: (ms: number) => void (audio.silenceMs = ms),
        lastSpeechWall: () => audio.heard,
        stop: () => {
          audio.stopped = true;
          return Promise.resolve();
        },
      };
    },
    edge(edge: { speaking: boolean; atMs: number; wallMs: number }) {
      audio.onSpeech(edge);
    },
  };
  return audio;
}

/** What the page would show, recorded. */
export class PagePorts {
  rendered: { u: Utterance; facts?: LineFacts }[] = [];
  /** `state` or `state:text` for every change of the status pill. */
  states: string[] = [];
  messages: (string | null)[] = [];
  logged: [string, string][] = [];
  started: { sessionId: string; pageCommits: boolean }[] = [];
  holds: { seconds: number; busy: () => boolean }[] = [];
  ended = 0;
  lines = {
    render: (u: Utterance, facts?: LineFacts) => void this.rendered.push({ u, facts }),
    order: (_ordered: Utterance[]) => {},
    clear: () => void (this.rendered = []),
  };
  status = {
    state: "idle",
    text: "",
    set: (state: string, text?: string) => {
      this.status.state = state;
      this.status.text = text ?? "";
      this.states.push(text ? `${state}:${text}` : state);
    },
    message: (text: string | null) => void this.messages.push(text),
    level: (_level: number) => {},
    speaking: (_on: boolean) => {},
  };
  log = {
    add: (event: Record<string, unknown>, direction = "in") =>
      void this.logged.push([String(event.type), direction]),
  };
  controls = {
    starting: () => {},
    started: (info: { sessionId: string; pageCommits: boolean }) => void this.started.push(info),
    stopping: () => {},
    ended: () => void this.ended++,
    holdStart: (seconds: number, busy: () => boolean) => void this.holds.push({ seconds, busy }),
  };

  /** The last rendering of one line. */
  lastLine(itemId: string) {
    return this.rendered.findLast((r) => r.u.itemId === itemId);
  }
}

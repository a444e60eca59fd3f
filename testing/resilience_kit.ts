/**
 * Helpers for the resilience tests (issue #8): speak into a live call from the test (a second
 * `?call_id=` connection appending PCM, so the page's fake microphone can stay silent and every
 * utterance is exactly timed), find the live call, and flip the emulator's fault switches over
 * its HTTP control API.
 *
 * @module
 */
import type { RunningEmulator } from "../emulator/mod.ts";
import { appendAudio, type Ev, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { waitFor } from "./server.ts";

/** The final-transcript event type. */
export const COMPLETED = "conversation.item.input_audio_transcription.completed";

/** One call as `GET /_emulator/calls` lists it. */
export interface EmulatorCall {
  id: string;
  kind: string;
  state: string;
  sidebands: string[];
}

/** The emulator's calls, newest last. */
export function calls(emulator: RunningEmulator): EmulatorCall[] {
  return emulator.control.calls() as unknown as EmulatorCall[];
}

/** Waits for an active WebRTC call other than `except` and returns its id. */
export function waitForActiveCall(
  emulator: RunningEmulator,
  except: string[] = [],
  timeoutMs = 30_000,
): Promise<string> {
  return waitFor(() =>
    calls(emulator).filter((c) =>
      c.kind === "webrtc" && c.state === "active" && !except.includes(c.id)
    ).at(-1)?.id, { timeoutMs, message: "an active WebRTC call" });
}

/** Options for {@linkcode speakInto}. */
export interface SpeakOptions {
  /** Wait for this event type before closing (default the `completed`/`failed` of the item). */
  waitForText?: boolean;
  /** Tone length, ms (default 500). */
  speechMs?: number;
}

/**
 * Queues `text` for the call and appends a tone then silence on a short-lived second connection,
 * so the call's VAD commits one turn; resolves with the events that connection saw once the
 * turn's transcription ended (completed or failed).
 */
export async function speakInto(
  emulator: RunningEmulator,
  callId: string,
  text: string,
  options: SpeakOptions = {},
): Promise<Ev[]> {
  emulator.control.queueTranscripts([text], callId);
  const speaker = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
    headers: { Authorization: `Bearer ${emulator.apiKey}` },
  });
  try {
    await speaker.opened;
    appendAudio(speaker, tone(options.speechMs ?? 500));
    appendAudio(speaker, silence(700));
    const committed = await speaker.waitFor("input_audio_buffer.committed");
    await Promise.race([
      speaker.waitFor(COMPLETED, (e) => e.item_id === committed.item_id, 10_000),
      speaker.waitFor(
        "conversation.item.input_audio_transcription.failed",
        (e) => e.item_id === committed.item_id,
        10_000,
      ),
    ]);
    return speaker.events;
  } finally {
    await speaker.close();
  }
}

/** A long-lived second connection to a call that speaks on demand and survives drops of others. */
export interface Speaker {
  /** The emulator's id of this connection (a sideband sink). */
  sinkId: string;
  /** Speaks one utterance and resolves once its transcription ended. */
  say(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens a {@linkcode Speaker} on `callId`. */
export async function openSpeaker(
  emulator: RunningEmulator,
  callId: string,
): Promise<Speaker> {
  const ids = () => calls(emulator).find((c) => c.id === callId)?.sidebands ?? [];
  const before = ids();
  const socket = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
    headers: { Authorization: `Bearer ${emulator.apiKey}` },
  });
  await socket.opened;
  const sinkId = await waitFor(() => ids().find((id) => !before.includes(id)));
  return {
    sinkId,
    async say(text) {
      emulator.control.queueTranscripts([text], callId);
      const n = socket.events.length;
      appendAudio(socket, tone(500));
      appendAudio(socket, silence(700));
      const committed = await socket.waitFor(
        "input_audio_buffer.committed",
        (e) => socket.events.indexOf(e) >= n,
      );
      await socket.waitFor(
        COMPLETED,
        (e) => e.item_id === committed.item_id,
        10_000,
      ).catch(() =>
        socket.waitFor(
          "conversation.item.input_audio_transcription.failed",
          (e) => e.item_id === committed.item_id,
          1,
        )
      );
    },
    close: () => socket.close(),
  };
}

/**
 * Closes the call's sideband connections (code 1011, as a network drop) except `keep` — white-box
 * through the emulator's state, because the control API's `dropSidebands` drops every one.
 */
export function dropSidebandsExcept(
  emulator: RunningEmulator,
  callId: string,
  keep: string[],
): number {
  const session = emulator.control.state.calls.get(callId)?.session;
  let n = 0;
  for (const sink of [...session?.sinks ?? []]) {
    if (sink.kind !== "sideband" || keep.includes(sink.id)) continue;
    session!.detach(sink);
    sink.close(1011, "test: sideband dropped");
    n++;
  }
  return n;
}

/** `POST /_emulator/faults` with `body`; returns the control API's answer. */
export async function setFaults(
  emulator: RunningEmulator,
  body: Record<string, unknown>,
): Promise<Ev> {
  const res = await fetch(`${emulator.baseUrl}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`faults: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

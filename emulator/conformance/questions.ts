/**
 * The open questions of the protocol reference that the suite probes. Against the emulator a
 * probe checks the emulator's default assumption; against OpenAI it records what happened, and
 * the report names the emulator option to set.
 *
 * @module
 */
import type { Question } from "./types.ts";

/** Logprobs on the current models. */
export const LOGPROBS_CURRENT: Question = {
  id: "logprobs_current_models",
  question:
    "Do gpt-transcribe, gpt-live-transcribe and gpt-realtime-whisper send logprobs when `include` asks (2026-12 update: unverified; one survey says gpt-live-transcribe reports no confidence)?",
  emulatorDefault:
    'they do; set `omitLogprobsModels` (or POST /_emulator/models {"omitLogprobs": [...]}) to the models that do not',
};

/** gpt-transcribe over WebRTC. */
export const GPT_TRANSCRIBE_WEBRTC: Question = {
  id: "gpt_transcribe_webrtc",
  question:
    "Does a WebRTC call with a gpt-transcribe transcription session work (a secondary source calls gpt-transcribe 'WebSocket only')?",
  emulatorDefault:
    'it does; set `webrtcRefusedModels: ["gpt-transcribe"]` if OpenAI refuses the call',
};

/** speech_started on gpt-live-transcribe. */
export const LIVE_TRANSCRIBE_SPEECH_EVENTS: Question = {
  id: "live_transcribe_speech_events",
  question:
    "Does gpt-live-transcribe (turn detection null) send input_audio_buffer.speech_started / speech_stopped?",
  emulatorDefault: "it does not; set `liveTranscribeSpeechEvents: true` if it does",
};

/** What a transcription sideband may update. */
export const SIDEBAND_UPDATES: Question = {
  id: "sideband_transcription_updates",
  question:
    "Which session.update does a sideband of a WebRTC transcription call accept (prompt, model, turn detection, include, noise reduction)?",
  emulatorDefault:
    "every valid update (each answered with session.updated); set `sidebandRefusesUpdates: true` to refuse them all",
};

/** session.created on a sideband. */
export const SIDEBAND_SESSION_CREATED: Question = {
  id: "sideband_session_created",
  question: "Does a `?call_id=` sideband receive session.created when it attaches (§4.4)?",
  emulatorDefault: "it does not (pydantic-ai); set `sidebandSessionCreated: true` if it does",
};

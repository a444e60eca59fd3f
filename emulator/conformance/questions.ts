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

/** The output languages a translation session takes. */
export const TRANSLATION_UNLISTED_LANGUAGES: Question = {
  id: "translation_unlisted_languages",
  question:
    "Does the Translation API refuse an audio.output.language outside the 13 the cookbook lists (`nl`), or in upper case (`ES`)? The `openai` types say only `string`.",
  emulatorDefault:
    'it refuses them (400 invalid_value); set `translationLanguages: "any"` if OpenAI takes them',
};

/** The output language of a translation session that names none. */
export const TRANSLATION_DEFAULT_LANGUAGE: Question = {
  id: "translation_default_language",
  question: "Which output language does a translation session get when the request names none?",
  emulatorDefault: '`en`; set `translationDefaultLanguage` to what OpenAI uses (e.g. "es")',
};

/** `?model=` on the translation calls URL. */
export const TRANSLATION_CALL_MODEL_QUERY: Question = {
  id: "translation_call_model_query",
  question:
    "Does POST /v1/realtime/translations/calls take a `?model=` query (public clients send none; one reports a 400 when they did)?",
  emulatorDefault:
    '400 unknown_parameter (param `model`); set `translationCallModelQuery: "accept"` if OpenAI takes it',
};

/** What a translation `session.update` may change. */
export const TRANSLATION_UPDATABLE_FIELDS: Question = {
  id: "translation_updatable_fields",
  question:
    "May a translation session.update change audio.input.transcription and noise_reduction (the `openai` types and API reference), or only audio.output.language (protocol reference 2026-12)?",
  emulatorDefault:
    'only the output language (others: unsupported_parameter); set `translationUpdatableFields: "sdk"` if OpenAI takes them',
};

/** Sidebands on translation calls. */
export const TRANSLATION_SIDEBAND: Question = {
  id: "translation_sideband",
  question:
    "Does a translation call take a `?call_id=` sideband, on /v1/realtime or on /v1/realtime/translations (no public source shows one)?",
  emulatorDefault:
    'neither (404 call_id_not_found); set `translationSideband: "realtime_url" | "translations_url" | "both"`',
};

/** Hanging up a translation call. */
export const TRANSLATION_HANGUP: Question = {
  id: "translation_hangup",
  question:
    "Does POST /v1/realtime/calls/{id}/hangup or /v1/realtime/translations/calls/{id}/hangup end a translation call?",
  emulatorDefault: "neither (404 call_not_found); set `translationHangup: true` if OpenAI's do",
};

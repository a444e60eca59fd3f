/**
 * Per-model behaviour the protocol reference is unsure of, switchable at start (options
 * `omitLogprobsModels`, `refuseOptions`) and at run time (`/_emulator/models`):
 * - which models never send logprobs, even when `include` asks (logprobs on the current models
 *   are unverified);
 * - which options a model refuses although the app's catalog (`lib/models.ts`) thinks it takes
 *   them, with the live API's error shape (`invalid_request_error` with `param`), so the app's
 *   handling of an unpredicted refusal can be tested.
 *
 * @module
 */
import { TURN_DETECTION_UNSUPPORTED } from "../lib/models.ts";
import { ApiError } from "./errors.ts";

/** Options a model can be told to refuse (named as in the session object). */
export const REFUSABLE_OPTIONS = [
  "turn_detection",
  "logprobs",
  "prompt",
  "keywords",
  "languages",
  "delay",
  "noise_reduction",
] as const;

/** One refusable option. */
export type RefusableOption = typeof REFUSABLE_OPTIONS[number];

/** Model id (or `*` for every model) → the options it refuses. */
export type RefusalRules = Record<string, readonly RefusableOption[]>;

/** The models that send no logprobs by default: whisper-1, and diarize as in the audio API. */
export const DEFAULT_OMIT_LOGPROBS_MODELS: readonly string[] = Object.freeze([
  "whisper-1",
  "gpt-4o-transcribe-diarize",
]);

/** The mutable per-model switches; `reset()` restores the start values. */
export class ModelOverrides {
  /** Models whose transcription events carry no logprobs. */
  omitLogprobs: string[];
  /** Options refused per model. */
  refuse: RefusalRules;
  #initial: { omitLogprobs: string[]; refuse: RefusalRules };

  /** Creates the switches with their start values. */
  constructor(initial: { omitLogprobs: readonly string[]; refuse: RefusalRules }) {
    this.#initial = structuredClone({
      omitLogprobs: [...initial.omitLogprobs],
      refuse: initial.refuse,
    });
    this.omitLogprobs = [...this.#initial.omitLogprobs];
    this.refuse = structuredClone(this.#initial.refuse);
  }

  /** Whether `model` sends logprobs when asked. */
  sendsLogprobs(model: string): boolean {
    return !this.omitLogprobs.includes(model);
  }

  /** Whether `model` refuses `option`. */
  refuses(model: string, option: RefusableOption): boolean {
    return !!(this.refuse[model]?.includes(option) || this.refuse["*"]?.includes(option));
  }

  /** Restores the start values. */
  reset(): void {
    this.omitLogprobs = [...this.#initial.omitLogprobs];
    this.refuse = structuredClone(this.#initial.refuse);
  }

  /** A JSON view for the control API. */
  toJSON(): { omitLogprobs: string[]; refuse: RefusalRules } {
    return { omitLogprobs: this.omitLogprobs, refuse: this.refuse };
  }
}

/**
 * The error for a refused option, shaped like the live API's: the real turn-detection refusal,
 * `unsupported_parameter` naming the dotted param for the others. `prefix` is e.g. `session.`.
 */
export function refusal(option: RefusableOption, model: string, prefix: string): ApiError {
  if (option === "turn_detection") {
    const r = TURN_DETECTION_UNSUPPORTED;
    return new ApiError(400, r.code, r.message, `${prefix}${r.param}`, r.type);
  }
  const param = option === "logprobs"
    ? `${prefix}include`
    : option === "noise_reduction"
    ? `${prefix}audio.input.noise_reduction`
    : `${prefix}audio.input.transcription.${option}`;
  return new ApiError(
    400,
    "unsupported_parameter",
    `Unsupported parameter: '${param}' is not supported with the '${model}' model.`,
    param,
  );
}

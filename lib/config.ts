/**
 * Configuration from the environment, validated once by the readers below. A remixer sets only
 * `OPENAI_API_KEY`; everything else has a safe default or is derived. Loading never throws for a
 * missing key: the page explains what to set instead.
 *
 * Why not zod here, as for every request body: the config is read before the first byte of `/`,
 * and loading zod alone costs about as long as a whole Hono hello-world takes to start
 * (`deno task bench --only cold_start`). Environment values are strings set by the val's owner,
 * so a few typed readers do the job; zod loads with the API routes that need it.
 *
 * @module
 */
import { base64url } from "./hmac.ts";
import { findModel, MODELS } from "./models.ts";
import { unstartedKeepMs } from "./session_policy.ts";

const DEFAULT_BASE_URL = "https://api.openai.com";

/** Shortest `ACCESS_CODE` accepted (see {@linkcode ENV_VARIABLES}). */
export const ACCESS_CODE_MIN_LENGTH = 12;

/** Thrown by a reader: the sentence that says what is wrong with a value. */
class Refusal extends Error {}

/** Reads one variable's (non-empty) value, or throws a {@linkcode Refusal} saying why not. */
type Reader<T> = (raw: string) => T;

function refuse(message: string): never {
  throw new Refusal(message);
}

function text(o: { min?: number; max?: number; trim?: boolean } = {}): Reader<string> {
  return (raw) => {
    const v = o.trim ? raw.trim() : raw;
    if (o.min !== undefined && v.length < o.min) refuse(`Use at least ${o.min} characters`);
    if (o.max !== undefined && v.length > o.max) refuse(`Use at most ${o.max} characters`);
    return v;
  };
}

function int(min: number, max: number): Reader<number> {
  return (raw) => {
    const n = Number(raw.trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      refuse(`Use a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];
const bool: Reader<boolean> = (raw) => {
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  return refuse(`Use one of ${[...TRUE, ...FALSE].join(", ")}`);
};

/** An absolute URL with a host; `check` adds a rule with its own sentence. */
function url(check?: (u: URL) => string | null): Reader<string> {
  return (raw) => {
    const u = URL.parse(raw);
    if (u === null || u.host === "") refuse("Use an absolute URL such as https://example.com");
    const problem = check?.(u);
    if (problem) refuse(problem);
    return raw;
  };
}

function oneOf<const T extends string>(values: readonly T[], message: string): Reader<T> {
  return (raw) => values.includes(raw as T) ? raw as T : refuse(message);
}

const list: Reader<string[]> = (raw) =>
  raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);

/**
 * The signalling topologies (`../shared/realtime-protocol.md` §0): A (`direct`) and B (`relay`).
 */
export const SIGNALING_MODES = ["direct", "relay"] as const;

/** How the page's SDP offer reaches OpenAI; see `SIGNALING` in {@linkcode ENV_VARIABLES}. */
export type SignalingMode = (typeof SIGNALING_MODES)[number];

/**
 * The environment variables the app reads, each with its reader (defaults in
 * {@linkcode ENV_DEFAULTS}). Documented in README.md.
 */
export const ENV_VARIABLES = {
  OPENAI_API_KEY: text({ min: 1, trim: true }),
  /**
   * Base URL of the Realtime API. The page is told it (`GET /api/config`, the CSP), so it may not
   * carry credentials, a query or a fragment: the key goes in `OPENAI_API_KEY`.
   */
  OPENAI_BASE_URL: url((u) =>
    u.username === "" && u.password === "" && u.search === "" && u.hash === ""
      ? null
      : "Use a plain URL without user name, password, query or fragment"
  ),
  /**
   * The val's public address (`https://….web.val.run` or a custom domain). Optional: when set, the
   * app's requests to itself go there and a local server also answers on its host name.
   */
  PUBLIC_URL: url((u) => /^https?:$/.test(u.protocol) ? null : "Use an http(s) URL"),
  PORT: int(0, 65535),
  /**
   * Default transcription model for new sessions; must be in the catalog (`lib/models.ts`). The
   * default is the one OpenAI recommends for live captions; it takes no turn detection, so the
   * page commits its turns.
   */
  TRANSCRIPTION_MODEL: (raw: string) =>
    findModel(raw) !== undefined
      ? raw
      : refuse(`Unknown model: choose one of ${MODELS.map((m) => m.id).join(", ")}`),
  /** A vocabulary prompt the server applies over the sideband; the browser never sees it. */
  TRANSCRIPTION_PROMPT: text({ max: 4000 }),
  /**
   * Lifetime of the ephemeral key handed to the browser, seconds (API minimum is 10). The page
   * mints on Start and posts its offer within a second, so the API's minimum is the default: a
   * key can start calls the server never sees until it expires (docs/security.md).
   */
  EPHEMERAL_KEY_TTL_SECONDS: int(10, 7200),
  /**
   * How the page's SDP offer reaches OpenAI: `direct` (the browser posts it with an ephemeral key,
   * the server relays only when `Location` is unreadable) or `relay` (the server relays every offer
   * with its own key and no key reaches the browser, so the caps see every call).
   */
  SIGNALING: oneOf(
    SIGNALING_MODES,
    `Use "direct" (the browser starts its call with an ephemeral key) or "relay" (the server relays every SDP offer)`,
  ),
  /** Secret for HMAC tickets and cookies; when unset a random one is generated and kept in the Store. */
  SIGNING_SECRET: text({ min: 16 }),
  /** Secret for self-invoked internal requests; generated and kept in the Store when unset. */
  INTERNAL_SECRET: text({ min: 16 }),
  /** libSQL URL (`file:./data/app.db`, `:memory:`, `libsql://…`); Val Town uses std/sqlite. */
  DATABASE_URL: text({ min: 1 }),
  DATABASE_AUTH_TOKEN: text(),
  /**
   * Optional access code; when set, the page asks for it before anything else. It must resist
   * guessing at the sign-in throttle's global rate (about 19 200 a day): at least 12 characters,
   * not one character repeated.
   */
  ACCESS_CODE: (raw: string) => {
    if (raw.length < ACCESS_CODE_MIN_LENGTH) {
      refuse(`Use at least ${ACCESS_CODE_MIN_LENGTH} characters (a passphrase of a few words)`);
    }
    if (raw.length > 200) refuse("Use at most 200 characters");
    if (new Set(raw).size < 4) refuse("Use a code with at least 4 different characters");
    return raw;
  },
  RATE_MINTS_PER_MINUTE_PER_IP: int(1, 10_000),
  RATE_MINTS_PER_MINUTE: int(1, 100_000),
  MAX_CONCURRENT_SESSIONS_PER_IP: int(1, 1000),
  MAX_CONCURRENT_SESSIONS: int(1, 10_000),
  DAILY_MINUTES_PER_IP: int(1, 1_000_000),
  DAILY_MINUTES: int(1, 10_000_000),
  /** Longest session the server allows before it hangs up, seconds. */
  MAX_SESSION_SECONDS: int(10, 7200),
  /** Most translation languages one session may ask for (each is one more live call). */
  MAX_TRANSLATIONS: int(0, 13),
  /** Wall-clock limit the platform puts on one request, seconds (Val Town free ≈ 60). */
  PLATFORM_REQUEST_LIMIT_SECONDS: int(5, 86_400),
  RETENTION_MAX_AGE_DAYS: int(1, 36_500),
  RETENTION_MAX_SESSIONS: int(1, 1_000_000),
  /** Ended sessions kept per client (the rest of `RETENTION_MAX_SESSIONS` stays for others). */
  RETENTION_MAX_PER_CLIENT: int(1, 1_000_000),
  /** Requests per minute one client may make to the routes that write (gap repair, calls). */
  WRITES_PER_MINUTE_PER_IP: int(1, 100_000),
  /** Transcript one session may store, KiB (the page's gap repair is refused beyond it). */
  SESSION_MAX_STORED_KB: int(1, 1_000_000),
  /** Transcript one client may write through the page per UTC day, KiB. */
  CLIENT_MAX_STORED_KB_PER_DAY: int(1, 10_000_000),
  SIP_ENABLED: bool,
  OPENAI_WEBHOOK_SECRET: text({ min: 1 }),
  SIP_ALLOWED_CALLERS: list,
};

/** The variables that were set, each read by its reader. */
type EnvValues = {
  [K in keyof typeof ENV_VARIABLES]?: ReturnType<(typeof ENV_VARIABLES)[K]>;
};

/**
 * The value of each variable with a default, used when it is unset or empty (the others stay
 * unset: off, or generated).
 */
export const ENV_DEFAULTS = {
  OPENAI_BASE_URL: DEFAULT_BASE_URL,
  PORT: 8000,
  TRANSCRIPTION_MODEL: "gpt-live-transcribe",
  EPHEMERAL_KEY_TTL_SECONDS: 10,
  SIGNALING: "direct",
  RATE_MINTS_PER_MINUTE_PER_IP: 10,
  RATE_MINTS_PER_MINUTE: 60,
  MAX_CONCURRENT_SESSIONS_PER_IP: 3,
  MAX_CONCURRENT_SESSIONS: 20,
  DAILY_MINUTES_PER_IP: 60,
  DAILY_MINUTES: 600,
  MAX_SESSION_SECONDS: 900,
  MAX_TRANSLATIONS: 3,
  RETENTION_MAX_AGE_DAYS: 30,
  RETENTION_MAX_SESSIONS: 500,
  RETENTION_MAX_PER_CLIENT: 50,
  WRITES_PER_MINUTE_PER_IP: 60,
  SESSION_MAX_STORED_KB: 512,
  CLIENT_MAX_STORED_KB_PER_DAY: 2048,
  SIP_ENABLED: false,
} as const satisfies EnvValues;

/** Reads every set (non-empty) variable; throws {@linkcode ConfigError} naming the first bad one. */
function readVariables(env: Record<string, string | undefined>): EnvValues {
  const values: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(ENV_VARIABLES)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    try {
      values[name] = (read as Reader<unknown>)(raw);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw new ConfigError(`Cannot read environment variable "${name}": ${err.message}`, name);
    }
  }
  return values as EnvValues;
}

/** Where the code is running. */
export type Platform = "local" | "valtown";

/** The validated configuration every module receives. */
export interface Config {
  platform: Platform;
  /** The standard API key, or null when unset (the page then explains how to set it). */
  openaiApiKey: string | null;
  /** Base URL of the Realtime API (the emulator's in offline demo mode), without trailing slash. */
  openaiBaseUrl: string;
  /** True when running against the embedded emulator: transcripts are placeholders. */
  demo: boolean;
  port: number;
  defaultModel: string;
  privatePrompt: string | null;
  ephemeralKeyTtlSeconds: number;
  /**
   * `direct`: `POST /api/session` hands the page an ephemeral key (topology A, relay as fallback).
   * `relay`: no key is minted; every call is created by the server (`POST /api/calls`), so the
   * server knows, caps and can hang up every call.
   */
  signaling: SignalingMode;
  signingSecret: string;
  internalSecret: string;
  /**
   * Which secrets came from the environment. The others were generated at random by
   * {@linkcode loadConfig}; the app replaces them with the ones kept in the Store before the first
   * request that needs one (`lib/security/secrets.ts`), so every process of the val agrees.
   */
  secretsFromEnv: { signing: boolean; internal: boolean };
  /** `PUBLIC_URL`'s origin, or null (see `lib/security/own_origin.ts`). */
  publicOrigin: string | null;
  databaseUrl: string | null;
  databaseAuthToken: string | null;
  accessCode: string | null;
  limits: {
    mintsPerMinutePerIp: number;
    mintsPerMinute: number;
    concurrentSessionsPerIp: number;
    concurrentSessions: number;
    dailyMinutesPerIp: number;
    dailyMinutes: number;
    maxSessionSeconds: number;
  };
  /** Most translation languages per session (`MAX_TRANSLATIONS`); 0 turns translation off. */
  maxTranslations: number;
  /** Seconds one request may live on this platform; null = unlimited (local). */
  platformRequestLimitSeconds: number | null;
  /**
   * Retention: `maxSessions` counts started sessions and never-started ones separately,
   * `maxSessionsPerClient` bounds one client's share, and never-started rows go
   * `unstartedKeepMs` after they were minted (`lib/session_policy.ts`).
   */
  retention: {
    maxAgeDays: number;
    maxSessions: number;
    maxSessionsPerClient: number;
    unstartedKeepMs: number;
  };
  /** Caps on what the page's write routes may store (`lib/security/write_limits.ts`). */
  writes: { perMinutePerIp: number; sessionMaxBytes: number; clientMaxBytesPerDay: number };
  sip: { enabled: boolean; webhookSecret: string | null; allowedCallers: string[] | null };
}

/** Thrown when an environment variable has an invalid value. */
export class ConfigError extends Error {
  /** The variable whose value was refused, when one was. */
  readonly variable: string | null;
  constructor(message: string, variable: string | null = null) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Platform override; detected from `VALTOWN_ENTRYPOINT` when omitted. */
  platform?: Platform;
  /** Marks an embedded-emulator run (set by start.ts). */
  demo?: boolean;
}

/**
 * Validates an environment record into a {@linkcode Config}.
 *
 * @example
 * ```ts
 * const config = await loadConfig(Deno.env.toObject());
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Promise<Config> {
  // A promise (as when secrets were derived with crypto.subtle): a bad value is a rejection.
  return new Promise((resolve) => resolve(readConfig(env, options)));
}

/** {@linkcode loadConfig}, synchronously; throws {@linkcode ConfigError}. */
export function readConfig(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Config {
  const e = { ...ENV_DEFAULTS, ...readVariables(env) };
  const platform = options.platform ??
    (env.VALTOWN_ENTRYPOINT ? "valtown" : "local");
  const key = e.OPENAI_API_KEY ?? null;
  return {
    platform,
    openaiApiKey: key,
    openaiBaseUrl: e.OPENAI_BASE_URL.replace(/\/+$/, ""),
    demo: options.demo ?? false,
    port: e.PORT,
    defaultModel: e.TRANSCRIPTION_MODEL,
    privatePrompt: e.TRANSCRIPTION_PROMPT ?? null,
    ephemeralKeyTtlSeconds: e.EPHEMERAL_KEY_TTL_SECONDS,
    signaling: e.SIGNALING,
    // Never derived from the API key (it may be public, like the emulator's): random here, and
    // replaced by the Store's copy before first use (lib/security/secrets.ts).
    signingSecret: e.SIGNING_SECRET ?? randomSecret(),
    internalSecret: e.INTERNAL_SECRET ?? randomSecret(),
    secretsFromEnv: {
      signing: e.SIGNING_SECRET !== undefined,
      internal: e.INTERNAL_SECRET !== undefined,
    },
    publicOrigin: e.PUBLIC_URL ? new URL(e.PUBLIC_URL).origin : null,
    databaseUrl: e.DATABASE_URL ?? null,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN ?? null,
    accessCode: e.ACCESS_CODE ?? null,
    limits: {
      mintsPerMinutePerIp: e.RATE_MINTS_PER_MINUTE_PER_IP,
      mintsPerMinute: e.RATE_MINTS_PER_MINUTE,
      concurrentSessionsPerIp: e.MAX_CONCURRENT_SESSIONS_PER_IP,
      concurrentSessions: e.MAX_CONCURRENT_SESSIONS,
      dailyMinutesPerIp: e.DAILY_MINUTES_PER_IP,
      dailyMinutes: e.DAILY_MINUTES,
      maxSessionSeconds: e.MAX_SESSION_SECONDS,
    },
    maxTranslations: e.MAX_TRANSLATIONS,
    platformRequestLimitSeconds: e.PLATFORM_REQUEST_LIMIT_SECONDS ??
      (platform === "valtown" ? 60 : null),
    retention: {
      maxAgeDays: e.RETENTION_MAX_AGE_DAYS,
      maxSessions: e.RETENTION_MAX_SESSIONS,
      maxSessionsPerClient: e.RETENTION_MAX_PER_CLIENT,
      unstartedKeepMs: unstartedKeepMs({ ephemeralKeyTtlSeconds: e.EPHEMERAL_KEY_TTL_SECONDS }),
    },
    writes: {
      perMinutePerIp: e.WRITES_PER_MINUTE_PER_IP,
      sessionMaxBytes: e.SESSION_MAX_STORED_KB * 1024,
      clientMaxBytesPerDay: e.CLIENT_MAX_STORED_KB_PER_DAY * 1024,
    },
    sip: {
      enabled: e.SIP_ENABLED,
      webhookSecret: e.OPENAI_WEBHOOK_SECRET ?? null,
      allowedCallers: e.SIP_ALLOWED_CALLERS ?? null,
    },
  };
}

/** 256 random bits as base64url. */
export function randomSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

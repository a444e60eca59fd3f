/**
 * What a log line may say about a session. A session id is a read capability (the share link
 * `/s/<id>` opens its transcript), and logs are read by more people and tools than transcripts
 * are, so the console logger writes only a short prefix of it: enough to match lines of one
 * session, far too little to open it (36 of 128 bits).
 *
 * @module
 */

/** Field names whose values are session ids. */
const SESSION_ID_FIELDS = new Set(["sessionId", "session_id"]);

/** A session id as logs show it: its first 6 characters and an ellipsis. */
export function sessionRef(id: string): string {
  return id.length > 6 ? `${id.slice(0, 6)}…` : id;
}

/** The fields with every session id shortened to {@linkcode sessionRef} (top level only). */
export function logSafeFields(
  fields: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!fields) return fields;
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (SESSION_ID_FIELDS.has(key) && typeof value === "string") {
      out ??= { ...fields };
      out[key] = sessionRef(value);
    }
  }
  return out ?? fields;
}

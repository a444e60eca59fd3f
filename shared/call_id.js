// @ts-check
/**
 * The Realtime call id (`rtc_…`) rule, shared by the page and the server. A call id goes into
 * URLs (`/v1/realtime/calls/{id}/hangup`, `?call_id=`), so anything else is refused before use.
 *
 * @module
 */

/** A Realtime call id: `rtc_` and 1–128 letters, digits or underscores. */
export const CALL_ID_PATTERN = /^rtc_[A-Za-z0-9_]{1,128}$/;

/**
 * Whether `value` is a well-formed call id.
 * @param {unknown} value
 * @returns {value is string}
 */
export function isCallId(value) {
  return typeof value === "string" && CALL_ID_PATTERN.test(value);
}

/**
 * The call id at the end of a `Location` value (`/v1/realtime/calls/rtc_…`, relative or absolute),
 * or null when there is none or it is malformed.
 *
 * @param {string | null | undefined} location
 * @returns {string | null}
 */
export function callIdFromLocation(location) {
  if (!location) return null;
  try {
    const id = new URL(location, "http://x").pathname.split("/").filter(Boolean).pop() ?? "";
    return isCallId(id) ? id : null;
  } catch {
    return null;
  }
}

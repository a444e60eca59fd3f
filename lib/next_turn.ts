/**
 * Yielding to the event loop. Deno sends an outgoing `fetch` only when the event loop next polls,
 * so synchronous work started right after the call (a local SQLite write: `@libsql/client` runs
 * its statements synchronously) delays the request by its whole duration. Awaiting
 * {@linkcode nextTurn} after starting the request lets it leave first.
 *
 * @module
 */

/**
 * Resolves after one event-loop turn (a zero-delay timer), so pending I/O is polled first.
 *
 * @example
 * ```ts
 * const answer = fetch("https://example.com/"); // dispatched on the next poll
 * await nextTurn(); // …which happens now
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

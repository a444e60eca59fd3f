/**
 * Runs the val the way Val Town does, for `testing/deployed_test.ts`: imports `main.tsx` and
 * calls its default export for every request. Started WITHOUT `--allow-read`/`--allow-write`, with
 * `VALTOWN_ENTRYPOINT` set and Val Town's std modules import-mapped to `testing/valtown_std/`.
 * Prints `LISTENING <port>` when ready.
 *
 * @module
 */
import handler from "../main.tsx";

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, (req) => handler(req));

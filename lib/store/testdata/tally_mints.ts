/**
 * A separate process for the store's concurrency test: calls `tallyMint` a number of times for one
 * client on a SQLite file and prints every tally it got back.
 *
 * Usage: `deno run -A tally_mints.ts <database url> <barrier dir> <count> <per-client limit>`;
 * same barrier protocol as `record_events.ts`.
 */
import { loadConfig } from "../../config.ts";
import { openStore } from "../mod.ts";
import { mintTallyInput, waitForGo } from "./events.ts";

const [url, barrier, count, limit] = Deno.args;
const store = await openStore(await loadConfig({}, { platform: "local" }), { url });
await waitForGo(barrier);
const tallies = [];
for (let i = 0; i < Number(count); i++) {
  tallies.push(await store.tallyMint(mintTallyInput(Number(limit))));
}
await store.close();
console.log(JSON.stringify({ tallies }));

/**
 * A separate process for the store's concurrency test: calls `tallyMint` a number of times for one
 * client on a SQLite file and prints every tally it got back.
 *
 * Usage: `deno run -A tally_mints.ts <database url> <barrier dir> <count> <per-client limit>`;
 * same barrier protocol as `record_events.ts`.
 */
import { loadConfig } from "../../config.ts";
import { openStore } from "../mod.ts";
import { mintTallyInput } from "./events.ts";

const [url, barrier, count, limit] = Deno.args;
const store = await openStore(await loadConfig({}, { platform: "local" }), { url });
await Deno.writeTextFile(`${barrier}/ready-${Deno.pid}`, "");
for (;;) {
  try {
    await Deno.stat(`${barrier}/go`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 2));
  }
}
const tallies = [];
for (let i = 0; i < Number(count); i++) {
  tallies.push(await store.tallyMint!(mintTallyInput(Number(limit))));
}
await store.close();
console.log(JSON.stringify({ tallies }));

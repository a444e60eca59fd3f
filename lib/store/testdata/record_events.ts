/**
 * A separate writer process for the store's concurrency test: records the events in a JSON file
 * into a session of a SQLite file, then prints how many were new.
 *
 * Usage: `deno run -A record_events.ts <database url> <session id> <events.json> <barrier dir>`:
 * after opening the store it creates `<barrier dir>/ready-<pid>` and starts writing once
 * `<barrier dir>/go` exists, so every writer starts at the same moment.
 */
import { loadConfig } from "../../config.ts";
import { openStore } from "../mod.ts";
import { waitForGo } from "./events.ts";

const [url, sessionId, file, barrier] = Deno.args;
const events = JSON.parse(await Deno.readTextFile(file)) as Record<
  string,
  unknown
>[];
const store = await openStore(await loadConfig({}, { platform: "local" }), {
  url,
});
await waitForGo(barrier);
let recorded = 0;
for (const e of events) if (await store.recordEvent(sessionId, e)) recorded++;
await store.close();
console.log(JSON.stringify({ recorded }));

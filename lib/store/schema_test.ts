import assert from "node:assert/strict";
import { createClient } from "npm:@libsql/client@0.17.3";
import { loadConfig } from "../config.ts";
import { openStore } from "./mod.ts";
import { migrate, MIGRATIONS } from "./schema.ts";
import { tempDbUrl } from "./testdata/events.ts";

Deno.test("migrations are numbered 1, 2, 3… with no gap or repeat", () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  assert.equal(MIGRATIONS.find((m) => m.version === 4)?.name, "learned_rules");
  assert.equal(MIGRATIONS.find((m) => m.version === 5)?.name, "sessions.calls, translation_deltas");
  assert.equal(MIGRATIONS.find((m) => m.version === 6)?.name, "sessions.owner_key, app_settings");
  assert.equal(MIGRATIONS.find((m) => m.version === 7)?.name, "call_holds");
});

for (const upTo of [0, 3, 4, 5, 6]) {
  Deno.test(`a store file at schema version ${upTo} migrates to the latest`, async () => {
    const { url, dir } = await tempDbUrl();
    await Deno.mkdir(`${dir}/nested`, { recursive: true });
    const client = createClient({ url });
    const executor = {
      execute: (stmt: { sql: string; args?: unknown[] }) => client.execute(stmt as never) as never,
    };
    const runAll = async (stmts: { sql: string; args?: unknown[] }[]) => {
      for (const s of stmts) await client.execute(s as never);
    };
    if (upTo > 0) await migrate(executor, runAll, MIGRATIONS.filter((m) => m.version <= upTo));
    client.close();

    const config = await loadConfig({}, { platform: "local" });
    const store = await openStore(config, { url });
    try {
      const session = await store.createSession({ source: "webrtc", model: "m", settings: {} });
      await store.setSessionOwner(session.id, "owner-1");
      assert.equal(await store.sessionOwnerKey(session.id), "owner-1");
      assert.equal(await store.ensureSetting("k", "first"), "first");
      assert.equal(await store.ensureSetting("k", "second"), "first");
      // Version 7's table: a call's hold is released, and the call's session is found.
      await store.releaseCall("call-1");
      assert.equal(await store.sessionIdOfCall("call-1"), null);
      const weighted = await store.createSession({
        source: "webrtc",
        model: "m",
        settings: {},
        calls: 3,
      });
      assert.equal(await store.sessionCalls(weighted.id), 3);
    } finally {
      await store.close();
    }
    const check = createClient({ url });
    const versions = (await check.execute("SELECT version FROM schema_migrations ORDER BY version"))
      .rows.map((r) => Number(r.version));
    check.close();
    assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    await Deno.remove(dir, { recursive: true });
  });
}

import assert from "node:assert/strict";

// What `deno run main.tsx` loads before it serves anything: every import Deno can see, literal
// `import("…")` too (Deno loads those at start and only runs them later); modules loaded on first
// use through lib/load_later.ts have computed specifiers and are not in the graph. zod and the SQL
// drivers must not be in it, or the first byte of `/` waits for them (`deno task bench`).
async function startupGraph(entry: string): Promise<Map<string, string | null>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const redirects: Record<string, string> = info.redirects ?? {};
  const byUrl = new Map<string, { dependencies?: Array<Record<string, unknown>> }>(
    info.modules.map((m: { specifier: string }) => [m.specifier, m]),
  );
  const resolve = (s: string) => redirects[s] ?? s;
  const root = resolve(info.roots[0]);
  const from = new Map<string, string | null>([[root, null]]);
  const queue = [root];
  while (queue.length) {
    const url = queue.shift()!;
    for (const dep of byUrl.get(url)?.dependencies ?? []) {
      const code = dep.code as { specifier?: string } | undefined;
      if (!code?.specifier) continue; // type-only imports have no `code`
      const target = resolve(code.specifier);
      if (!from.has(target)) {
        from.set(target, url);
        queue.push(target);
      }
    }
  }
  return from;
}

function chain(from: Map<string, string | null>, url: string): string {
  const steps = [url];
  for (let p = from.get(url); p; p = from.get(p)) steps.unshift(p);
  return steps.map((s) => s.replace(/^file:\/\/.*?\/(?=(lib|routes|main|app|shared)\b)/, "")).join(
    " → ",
  );
}

for (const entry of ["main.tsx", "start.ts"]) {
  Deno.test(`${entry} loads no zod, SQL driver or emulator before it serves \`/\``, async () => {
    const graph = await startupGraph(entry);
    assert.ok(graph.size > 20, `suspiciously small graph: ${graph.size}`);
    const heavy = [...graph.keys()].filter((u) =>
      /zod|libsql|emulator|werift|openapi|sideband\.ts$|session_config\.ts$/.test(u)
    );
    assert.deepEqual(heavy.map((u) => chain(graph, u)), []);
    // The page's own routes are there (the check above would pass on an empty graph otherwise).
    assert.ok([...graph.keys()].some((u) => u.endsWith("/routes/pages.ts")));
  });
}

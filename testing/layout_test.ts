/**
 * Repository rules that Val Town and our own docs depend on, checked on the real files.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Every tracked-looking source file under the repo, as paths relative to the root. */
async function listFiles(dir = ROOT, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if ([".git", "data", "coverage", "node_modules"].includes(entry.name)) continue;
    const rel = prefix + entry.name;
    if (entry.isDirectory) {
      out.push(...await listFiles(new URL(entry.name + "/", dir), rel + "/"));
    } else out.push(rel);
  }
  return out;
}

/** Minimal .vtignore matcher for the patterns we use (names, dirs, `*` globs). */
function vtIgnored(path: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const re = new RegExp(
      "^(?:.*/)?" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*") +
        "(?:/.*)?$",
    );
    return re.test(path);
  });
}

const files = await listFiles();
const vtignore = (await Deno.readTextFile(new URL(".vtignore", ROOT)))
  .split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
const deployed = files.filter((f) => !vtIgnored(f, vtignore));
const code = (f: string) => /\.(ts|tsx|js)$/.test(f);

Deno.test("only main.tsx has http, cron or email in its path", () => {
  const offenders = deployed.filter((f) => f !== "main.tsx" && /http|cron|email/i.test(f));
  assert.deepEqual(offenders, []);
});

Deno.test("the deployed val excludes the emulator, tests and tooling", () => {
  for (const f of deployed) {
    assert.ok(!f.startsWith("emulator/"), f);
    assert.ok(!f.startsWith("testing/"), f);
    assert.ok(!f.startsWith("bench/"), f);
    assert.ok(!/_test\.(ts|js)$/.test(f), f);
  }
  assert.ok(deployed.includes("main.tsx"));
});

Deno.test("every npm package is pinned to one exact version across the repo", async () => {
  const versions = new Map<string, Set<string>>();
  for (const f of files.filter(code)) {
    const text = await Deno.readTextFile(new URL(f, ROOT));
    for (const m of text.matchAll(/["'`]npm:((?:@[\w.-]+\/)?[\w.-]+)(?:@([^/"'`]+))?/g)) {
      const [, name, version] = m;
      assert.ok(version, `${f}: npm:${name} has no pinned version`);
      assert.match(version, /^\d+\.\d+\.\d+$/, `${f}: npm:${name}@${version} is not exact`);
      if (!versions.has(name)) versions.set(name, new Set());
      versions.get(name)!.add(version);
    }
  }
  for (const [name, set] of versions) {
    assert.equal(set.size, 1, `npm:${name} appears with versions ${[...set].join(", ")}`);
  }
});

Deno.test("deployed code never imports the emulator or test support statically", async () => {
  for (const f of deployed.filter(code)) {
    const text = await Deno.readTextFile(new URL(f, ROOT));
    for (const m of text.matchAll(/^\s*import\s[^;]*?from\s+["']([^"']+)["']/gm)) {
      assert.ok(!/(^|\/)(emulator|testing|bench)\//.test(m[1]), `${f} imports ${m[1]}`);
    }
  }
});

Deno.test("deployed files fit Val Town's limits (text, non-empty, ≤ 80,000 chars, plain names)", async () => {
  for (const f of deployed.filter((f) => !f.endsWith(".png"))) {
    const text = await Deno.readTextFile(new URL(f, ROOT));
    assert.ok(text.length > 0, `${f} is empty`);
    assert.ok(text.length <= 80_000, `${f} has ${text.length} chars`);
    assert.match(f.split("/").pop()!, /^[A-Za-z0-9._-]{1,80}$/, f);
  }
});

Deno.test("README, CLAUDE.md and .ci/run agree on one Deno version", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.match(/^npx -y deno@(\d+\.\d+\.\d+) task start$/m);
  const test = readme.match(/^npx -y deno@(\d+\.\d+\.\d+) task test$/m);
  assert.ok(start && test, "README must show the start and test commands");
  assert.equal(start[1], test[1]);
  const claude = await Deno.readTextFile(new URL("CLAUDE.md", ROOT));
  for (const m of claude.matchAll(/deno@(\d+\.\d+\.\d+)/g)) assert.equal(m[1], start[1]);
  assert.equal(Deno.version.deno, start[1], "tests run on the Deno version README names");
});

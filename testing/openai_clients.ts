/**
 * OpenAI's own clients, unmodified, for the tests that drive the emulator with them: `openai`
 * (REST, webhooks, and its browser WebRTC helper) and `@openai/agents-realtime` (its WebSocket
 * transport in Deno, its browser bundle in Chromium). Pinned here once for tests; deployed code
 * takes only types, from `lib/openai_types.ts`. The browser gets the packages' own ESM files from
 * a local server ({@linkcode servePackages}): no CDN.
 *
 * @module
 */
export { default as OpenAI } from "npm:openai@7.59.0";
export { OpenAIRealtimeWebSocket } from "npm:@openai/agents-realtime@0.20.0";

/** The versions of the two imports above (to find their files in Deno's npm cache). */
export const PACKAGES = Object.freeze({
  openai: { name: "openai", version: "7.59.0" },
  agentsRealtime: { name: "@openai/agents-realtime", version: "0.20.0" },
});

/**
 * Where Deno keeps an npm package it has downloaded (`deno info --json` names the cache). The
 * module importing this file has caused the download.
 */
export async function npmPackageDir(pkg: { name: string; version: string }): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(out.stdout));
  const dir = `${npmCache}/registry.npmjs.org/${pkg.name}/${pkg.version}`;
  await Deno.stat(`${dir}/package.json`);
  return dir;
}

const TYPES: Record<string, string> = {
  ".mjs": "text/javascript",
  ".js": "text/javascript",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
};

/** A local server for package files and test pages. */
export interface PackageServer {
  /** `http://localhost:<port>` (another origin than the emulator's 127.0.0.1). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/<prefix>/<path>` from each package directory and the given pages at their paths.
 * Paths that leave a directory answer 404.
 */
export function servePackages(
  dirs: Record<string, string>,
  pages: Record<string, string>,
): PackageServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (pages[path] !== undefined) {
      return new Response(pages[path], { headers: { "content-type": TYPES[".html"] } });
    }
    const [, prefix, ...rest] = path.split("/");
    const dir = dirs[prefix];
    if (!dir || rest.some((p) => p === ".." || p === "")) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(`${dir}/${rest.join("/")}`);
      const ext = /\.[a-z]+$/.exec(path)?.[0] ?? "";
      return new Response(body, {
        headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://localhost:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

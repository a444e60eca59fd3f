/**
 * Page weight: bytes and gzip bytes of every file the page loads, fetched over HTTP from a running
 * app. Starts from the HTML, follows `<script src>` and `<link rel=stylesheet|icon href>`, then the
 * module graph (`import … from`, `import()`, and `new URL("…", import.meta.url)`, which is how the
 * AudioWorklet is loaded), same-origin only. Gzip sizes use the platform's `CompressionStream`
 * (level comparable to a server's default), per file, as each would be transferred.
 *
 * Run alone: `deno run -A bench/page_weight.ts [baseUrl]` (without a URL it starts the app and
 * its emulator on loopback). `bench/page_weight_bench.ts` calls {@linkcode measurePageWeight}.
 *
 * @module
 */

/** One file the page loads. */
export interface PageFile {
  /** Path on the server, e.g. `/frontend/app.js`. */
  path: string;
  /** Uncompressed bytes. */
  bytes: number;
  /** Gzip bytes. */
  gzipBytes: number;
}

/** The result of {@linkcode measurePageWeight}. */
export interface PageWeight {
  files: PageFile[];
  total: { bytes: number; gzipBytes: number };
}

/** Gzip size of some bytes. */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** References a file makes to other files (relative or absolute URLs, unresolved). */
export function referencesOf(path: string, text: string): string[] {
  const refs: string[] = [];
  const add = (re: RegExp) => {
    for (const m of text.matchAll(re)) refs.push(m[1]);
  };
  if (path.endsWith(".html") || path === "/") {
    add(/<script\b[^>]*\bsrc="([^"]+)"/g);
    add(
      /<link\b[^>]*\brel="(?:stylesheet|icon|modulepreload|manifest)"[^>]*\bhref="([^"]+)"/g,
    );
  } else if (path.endsWith(".js")) {
    add(/\bimport\s+(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']/g);
    add(/\bimport\(\s*["']([^"']+)["']\s*\)/g);
    add(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g);
  } else if (path.endsWith(".css")) {
    add(/url\(\s*["']?([^"')]+)["']?\s*\)/g);
  }
  return refs;
}

/**
 * Fetches the page and everything it loads, and measures each file.
 *
 * @param options `baseUrl` of the app; `url` of the page (default `${baseUrl}/`).
 */
export async function measurePageWeight(
  options: { baseUrl: string; url?: string },
): Promise<PageWeight> {
  const origin = new URL(options.baseUrl).origin;
  const start = new URL(options.url ?? `${options.baseUrl}/`);
  const queue = [start.href];
  const seen = new Set<string>(queue);
  const files: PageFile[] = [];
  while (queue.length > 0) {
    const href = queue.shift()!;
    const res = await fetch(href);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok) throw new Error(`Page weight: ${href} answered ${res.status}`);
    const path = new URL(href).pathname;
    files.push({
      path,
      bytes: bytes.byteLength,
      gzipBytes: await gzipSize(bytes),
    });
    // A page served at a path without `.html` (the share viewer, `/s/:id`) is still HTML.
    const html = /^text\/html/.test(res.headers.get("content-type") ?? "");
    const kind = html && !path.endsWith(".html") && path !== "/" ? `${path}.html` : path;
    for (const ref of referencesOf(kind, new TextDecoder().decode(bytes))) {
      if (ref.startsWith("data:")) continue;
      const next = new URL(ref, href);
      if (next.origin !== origin || seen.has(next.href)) continue;
      seen.add(next.href);
      queue.push(next.href);
    }
  }
  const total = files.reduce(
    (t, f) => ({
      bytes: t.bytes + f.bytes,
      gzipBytes: t.gzipBytes + f.gzipBytes,
    }),
    { bytes: 0, gzipBytes: 0 },
  );
  return { files, total };
}

/** Formats the result as a Markdown table. */
export function formatPageWeight(w: PageWeight): string {
  const kb = (n: number) => (n / 1024).toFixed(1);
  const lines = [
    "| file | bytes | gzip bytes |",
    "| --- | ---: | ---: |",
    ...w.files.map((f) => `| \`${f.path}\` | ${f.bytes} | ${f.gzipBytes} |`),
    `| **total** (${w.files.length} files) | ${w.total.bytes} (${
      kb(w.total.bytes)
    } KiB) | ${w.total.gzipBytes} (${kb(w.total.gzipBytes)} KiB) |`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const given = Deno.args[0];
  if (given) {
    console.log(formatPageWeight(await measurePageWeight({ baseUrl: given })));
  } else {
    const { startTestApp } = await import("../testing/server.ts");
    const app = await startTestApp();
    try {
      console.log(
        formatPageWeight(await measurePageWeight({ baseUrl: app.baseUrl })),
      );
    } finally {
      await app.close();
    }
  }
}

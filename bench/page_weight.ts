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
  /**
   * `null` when the file is part of the first load (the HTML, its stylesheets and scripts, and
   * their static imports); otherwise what loads it on demand (see {@linkcode TRIGGERS}).
   */
  onDemand: string | null;
}

/** A total of bytes and gzip bytes over some files. */
export interface WeightTotal {
  /** Uncompressed bytes. */
  bytes: number;
  /** Gzip bytes. */
  gzipBytes: number;
  /** How many files. */
  files: number;
}

/** The result of {@linkcode measurePageWeight}. */
export interface PageWeight {
  files: PageFile[];
  /** Every file (first load and on demand). */
  total: WeightTotal;
  /** What every visitor downloads before pressing anything. */
  firstLoad: WeightTotal;
  /** The files loaded later, by `import()` or `new URL(…, import.meta.url)`. */
  onDemand: WeightTotal;
}

/**
 * What loads an on-demand file, by the file a dynamic reference names (files it imports
 * statically inherit its trigger). A target missing here reads "on demand".
 */
export const TRIGGERS: Record<string, string> = {
  "/frontend/vad-worklet.js": "Start (the page VAD's AudioWorklet)",
  "/frontend/translations_view.js": "translations chosen, or a session with translations",
  "/frontend/translations.css": "translations chosen, or a session with translations",
  "/frontend/restore.js": "a remembered session to redraw (reload)",
  "/frontend/sharing.js": "Share turning on (a session started or redrawn), or a first Copy/Export",
};

/** A reference a file makes, and whether it is loaded later rather than with the file. */
export interface Reference {
  /** The URL as written (relative or absolute, unresolved). */
  url: string;
  /** True for `import()` and `new URL(…, import.meta.url)`. */
  dynamic: boolean;
}

/** Gzip size of some bytes. */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** References a file makes to other files (relative or absolute URLs, unresolved). */
export function referencesOf(path: string, text: string): string[] {
  return referenceKindsOf(path, text).map((r) => r.url);
}

/** Like {@linkcode referencesOf}, telling static references from dynamic ones. */
export function referenceKindsOf(path: string, text: string): Reference[] {
  const refs: Reference[] = [];
  const add = (re: RegExp, dynamic = false) => {
    for (const m of text.matchAll(re)) refs.push({ url: m[1], dynamic });
  };
  if (path.endsWith(".html") || path === "/") {
    add(/<script\b[^>]*\bsrc="([^"]+)"/g);
    add(
      /<link\b[^>]*\brel="(?:stylesheet|icon|modulepreload|manifest)"[^>]*\bhref="([^"]+)"/g,
    );
  } else if (path.endsWith(".js")) {
    add(/\bimport\s+(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']/g);
    add(/\bimport\(\s*["']([^"']+)["']\s*\)/g, true);
    add(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g, true);
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
  // Breadth first, first-load files before on-demand ones, so a file both imported statically
  // and dynamically counts as first load.
  const queue: { href: string; onDemand: string | null }[] = [{ href: start.href, onDemand: null }];
  const seen = new Set<string>([start.href]);
  const files: PageFile[] = [];
  while (queue.length > 0) {
    const { href, onDemand } = queue.shift()!;
    const res = await fetch(href);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok) throw new Error(`Page weight: ${href} answered ${res.status}`);
    const path = new URL(href).pathname;
    files.push({
      path,
      bytes: bytes.byteLength,
      gzipBytes: await gzipSize(bytes),
      onDemand,
    });
    // A page served at a path without `.html` (the share viewer, `/s/:id`) is still HTML.
    const html = /^text\/html/.test(res.headers.get("content-type") ?? "");
    const kind = html && !path.endsWith(".html") && path !== "/" ? `${path}.html` : path;
    for (const ref of referenceKindsOf(kind, new TextDecoder().decode(bytes))) {
      if (ref.url.startsWith("data:")) continue;
      const next = new URL(ref.url, href);
      if (next.origin !== origin) continue;
      const later = onDemand ??
        (ref.dynamic ? TRIGGERS[next.pathname] ?? `on demand (from ${path})` : null);
      if (seen.has(next.href)) {
        // Seen only dynamically so far and still waiting: a static import makes it first load.
        const waiting = queue.findIndex((q) => q.href === next.href && q.onDemand !== null);
        if (later !== null || waiting === -1) continue;
        queue.splice(waiting, 1);
      }
      seen.add(next.href);
      if (later === null) {
        // Static: ahead of every on-demand file still waiting.
        const at = queue.findIndex((q) => q.onDemand !== null);
        queue.splice(at === -1 ? queue.length : at, 0, { href: next.href, onDemand: null });
      } else queue.push({ href: next.href, onDemand: later });
    }
  }
  const sum = (list: PageFile[]): WeightTotal =>
    list.reduce(
      (t, f) => ({
        bytes: t.bytes + f.bytes,
        gzipBytes: t.gzipBytes + f.gzipBytes,
        files: t.files + 1,
      }),
      { bytes: 0, gzipBytes: 0, files: 0 },
    );
  return {
    files,
    total: sum(files),
    firstLoad: sum(files.filter((f) => f.onDemand === null)),
    onDemand: sum(files.filter((f) => f.onDemand !== null)),
  };
}

/** Formats the result as a Markdown table. */
export function formatPageWeight(w: PageWeight): string {
  const kb = (n: number) => (n / 1024).toFixed(1);
  const row = (name: string, t: WeightTotal) =>
    `| **${name}** (${t.files} files) | | ${t.bytes} (${kb(t.bytes)} KiB) | ${t.gzipBytes} (${
      kb(t.gzipBytes)
    } KiB) |`;
  const lines = [
    "| file | loads | bytes | gzip bytes |",
    "| --- | --- | ---: | ---: |",
    ...w.files.map((f) =>
      `| \`${f.path}\` | ${f.onDemand ?? "first load"} | ${f.bytes} | ${f.gzipBytes} |`
    ),
    row("first load", w.firstLoad),
    row("everything on demand", w.onDemand),
    row("all files", w.total),
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

/**
 * A stand-in for Val Town's HTTP proxy, for the attack tests (`testing/attack_*_test.ts`). It
 * listens on loopback and forwards every request to the app, doing what docs/security.md
 * ("Platform facts we assume") says the platform does:
 *
 * - **CORS default**: a response that sets no `Access-Control-*` header gets
 *   `Access-Control-Allow-Origin: *` and `Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE`;
 *   a preflight (`OPTIONS` with `Access-Control-Request-Method`) the app does not answer with a
 *   CORS header gets those plus its requested headers mirrored. Any CORS header the app sets turns
 *   all of that off.
 * - **Forwarded headers**: `X-Forwarded-For` is *appended* to (the worst case the docs allow: the
 *   client's own value is kept in front of the address the proxy saw) and `X-Forwarded-Proto`
 *   is set.
 * - **Host**: the app sees the public URL the client used (the platform restores it), so the
 *   forwarded request keeps the client's `Host`.
 *
 * Not a general proxy: no streaming of request bodies, no WebSockets (Val Town has neither for
 * incoming requests).
 *
 * @example
 * ```ts
 * const proxy = await startValTownProxy({ target: app.baseUrl });
 * await fetch(`${proxy.baseUrl}/api/config`);
 * await proxy.close();
 * ```
 *
 * @module
 */

/** Options for {@linkcode startValTownProxy}. */
export interface ValTownProxyOptions {
  /** The app's own base URL (`http://127.0.0.1:<port>`). */
  target: string;
  /** Host name to listen on (default `127.0.0.1`). */
  hostname?: string;
}

/** One request the proxy forwarded, with the app's answer status. */
export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  /** The `Origin` and `Sec-Fetch-Site` the browser sent. */
  origin: string | null;
  secFetchSite: string | null;
}

/** A running proxy. */
export interface ValTownProxy {
  /** `http://<hostname>:<port>`. */
  baseUrl: string;
  port: number;
  /** Every request forwarded so far. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE";

/** True when the app set any CORS header itself. */
function hasCors(headers: Headers): boolean {
  for (const name of headers.keys()) {
    if (name.toLowerCase().startsWith("access-control-")) return true;
  }
  return false;
}

/** Starts the proxy in front of `options.target`; always `close()` it. */
export async function startValTownProxy(options: ValTownProxyOptions): Promise<ValTownProxy> {
  const target = new URL(options.target);
  const requests: ProxiedRequest[] = [];
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
  }, async (req, info) => {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    const seen = (info.remoteAddr as Deno.NetAddr).hostname;
    const sent = headers.get("x-forwarded-for");
    headers.set("x-forwarded-for", sent ? `${sent}, ${seen}` : seen);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : await req.arrayBuffer();
    const upstream = await fetch(new URL(url.pathname + url.search, target), {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    const out = new Headers(upstream.headers);
    const preflight = req.method === "OPTIONS" && req.headers.has("access-control-request-method");
    if (!hasCors(out)) {
      out.set("Access-Control-Allow-Origin", "*");
      out.set("Access-Control-Allow-Methods", DEFAULT_METHODS);
      const asked = req.headers.get("access-control-request-headers");
      if (preflight && asked) out.set("Access-Control-Allow-Headers", asked);
    }
    requests.push({
      method: req.method,
      path: url.pathname,
      status: upstream.status,
      origin: req.headers.get("origin"),
      secFetchSite: req.headers.get("sec-fetch-site"),
    });
    // The platform answers a preflight the app did not handle as a success.
    const status = preflight && !hasCors(upstream.headers) && upstream.status >= 400
      ? 204
      : upstream.status;
    const empty = status === 204 || status === 304 || req.method === "HEAD";
    if (empty) await upstream.body?.cancel();
    return new Response(empty ? null : upstream.body, {
      status,
      headers: out,
    });
  });
  const addr = await listening;
  const host = options.hostname ?? "127.0.0.1";
  return {
    baseUrl: `http://${host}:${addr.port}`,
    port: addr.port,
    requests,
    async close() {
      await server.shutdown();
    },
  };
}

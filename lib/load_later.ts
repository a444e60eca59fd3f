/**
 * Loads a module on first use. For modules the first byte of `/` must not wait for: Deno loads
 * the whole graph behind a literal `import("./x.ts")` when the process starts (it only runs it
 * later), so the specifier is computed here; measured, a literal `import()` of zod that never
 * runs costs a cold start as much as importing zod (docs/performance.md, "Cold start").
 *
 * @module
 */

/**
 * Returns a function that imports `url` once (again after a failed import). Give the module's
 * type with `typeof import("./x.ts")`: a type-only reference, which `deno run` does not load.
 *
 * @example
 * ```ts
 * const api = loadLater<typeof import("../routes/api.ts")>(
 *   new URL("../routes/api.ts", import.meta.url),
 * );
 * const { apiRoutes } = await api();
 * ```
 */
export function loadLater<T>(url: URL): () => Promise<T> {
  const specifier = url.href;
  let loading: Promise<T> | null = null;
  return () =>
    loading ??= (import(specifier) as Promise<T>).catch((err) => {
      loading = null;
      throw err;
    });
}

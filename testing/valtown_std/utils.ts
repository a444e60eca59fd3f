/**
 * Stand-in for Val Town's `https://esm.town/v/std/utils@85-main/index.ts`, mapped in by
 * `--import-map` in `testing/deployed_test.ts`. `readFile(path, metaImportUrl)` fetches the val's
 * file over loopback HTTP from the test process, the way std/utils reads it through Val Town's
 * API: the app process itself has no filesystem access.
 *
 * @module
 */

/** Reads one of the val's files as text (path relative to the val root, leading `/` optional). */
export async function readFile(
  path: string,
  _metaImportUrl?: string,
): Promise<string> {
  const base = Deno.env.get("VALTOWN_STANDIN_FILES_URL");
  if (!base) {
    throw new Error(
      "Cannot read a val file: VALTOWN_STANDIN_FILES_URL is not set",
    );
  }
  const res = await fetch(`${base}/${path.replace(/^\/+/, "")}`);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Cannot read val file "${path}": ${res.status}`);
  }
  return await res.text();
}

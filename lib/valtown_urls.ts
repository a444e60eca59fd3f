/**
 * Links into Val Town's own pages, derived from the val's module URL
 * (`https://esm.town/v/<user>/<val>@<version>/main.tsx`).
 *
 * @module
 */

/** Where the page tells a Val Town owner to set the key, from the val's module URL. */
export function valTownEnvVarsUrl(
  moduleUrl: string | null | undefined,
): string | null {
  const m = moduleUrl?.match(
    /^https:\/\/esm\.town\/v\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_.-]+?)(?:@[^/]*)?\//,
  );
  if (!m) return null;
  return `https://www.val.town/x/${m[1]}/${m[2]}/environment-variables?key=OPENAI_API_KEY`;
}

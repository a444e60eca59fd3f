/**
 * Drops whole-line comments from the page's JavaScript and CSS as they are served. The sources
 * keep their JSDoc (the project has no build step), but a third of their gzip bytes are comments
 * the browser never needs. Only comments that start a line are removed, and nothing inside a
 * multi-line template literal is touched, so no string, regular expression or code can change.
 *
 * @module
 */

/**
 * Removes `/** … *\/` / `/* … *\/` blocks and `//` lines that begin a line (JS), or `/* … *\/`
 * blocks that begin a line (CSS). Code after a block's closing `*\/` on the same line is kept.
 *
 * @example
 * ```ts
 * stripComments("/** Doc. *\/\nexport const a = 1; // kept\n", "js"); // "export const a = 1; // kept\n"
 * ```
 */
export function stripComments(source: string, kind: "js" | "css"): string {
  const out: string[] = [];
  let inBlock = false;
  let inTemplate = false;
  for (const line of source.split("\n")) {
    const trimmed = line.trimStart();
    if (inBlock) {
      const end = line.indexOf("*/");
      if (end < 0) continue;
      inBlock = false;
      const rest = line.slice(end + 2);
      if (rest.trim() !== "") out.push(rest);
      continue;
    }
    if (!inTemplate) {
      if (kind === "js" && trimmed.startsWith("//")) continue;
      if (trimmed.startsWith("/*")) {
        const end = trimmed.indexOf("*/", 2);
        if (end < 0) {
          inBlock = true;
          continue;
        }
        const rest = trimmed.slice(end + 2);
        if (rest.trim() === "") continue;
        out.push(rest);
        if (kind === "js") inTemplate = togglesTemplate(rest, inTemplate);
        continue;
      }
    }
    out.push(line);
    if (kind === "js") inTemplate = togglesTemplate(line, inTemplate);
  }
  return out.join("\n");
}

/** Tracks whether a line leaves us inside a template literal (odd count of unescaped backticks). */
function togglesTemplate(line: string, inside: boolean): boolean {
  let state = inside;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") {
      i++;
      continue;
    }
    if (line[i] === "`") state = !state;
  }
  return state;
}

/**
 * axe-core checks for Chromium pages driven by playwright-core.
 *
 * The engine comes from the npm package (`axe.source`, no CDN) and is injected into the page under
 * test; {@linkcode checkA11y} runs it on the current state and sorts what it finds by impact, so a
 * test can fail on serious or critical violations and list the moderate ones.
 *
 * @example
 * ```ts
 * const report = await checkA11y(page, "main page, live");
 * assert.deepEqual(report.blocking.map((v) => v.id), [], formatViolations(report));
 * ```
 *
 * @module
 */
import axe from "npm:axe-core@4.14.1";
import type { Page } from "npm:playwright-core@1.65.1";

/** One axe rule that failed, with the elements it failed on. */
export interface Violation {
  /** The axe rule id, e.g. `color-contrast`. */
  id: string;
  impact: "minor" | "moderate" | "serious" | "critical" | null;
  help: string;
  /** CSS selectors of the failing elements (at most five). */
  targets: string[];
}

/** What {@linkcode checkA11y} found on one page state. */
export interface A11yReport {
  /** Which state was checked, for messages. */
  label: string;
  /** Serious and critical violations: a test fails on any of these. */
  blocking: Violation[];
  /** Moderate and minor violations: listed, not fatal. */
  advisory: Violation[];
}

const source = (axe as unknown as { source: string }).source;

/** Options for {@linkcode checkA11y}. */
export interface CheckA11yOptions {
  /** Limit the run to a part of the page (CSS selector); default the whole document. */
  include?: string;
  /** axe tags to run (default WCAG 2.0–2.2 A/AA plus best practices). */
  tags?: string[];
}

/** Runs axe-core on the page's current state. */
export async function checkA11y(
  page: Page,
  label: string,
  options: CheckA11yOptions = {},
): Promise<A11yReport> {
  const loaded = await page.evaluate(() => "axe" in globalThis);
  // Evaluated over the DevTools protocol, not added as a <script>: the app's
  // Content-Security-Policy (script-src 'self') refuses inline scripts, as it should.
  if (!loaded) await page.evaluate(source);
  const tags = options.tags ??
    ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
  const found = await page.evaluate(
    async ({ include, tags }) => {
      // deno-lint-ignore no-explicit-any
      const engine = (globalThis as any).axe;
      const result = await engine.run(include ?? document, {
        runOnly: { type: "tag", values: tags },
      });
      // deno-lint-ignore no-explicit-any
      return result.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        // deno-lint-ignore no-explicit-any
        targets: v.nodes.slice(0, 5).map((n: any) => String(n.target.join(" "))),
      }));
    },
    { include: options.include, tags },
  ) as Violation[];
  return {
    label,
    blocking: found.filter((v) => v.impact === "serious" || v.impact === "critical"),
    advisory: found.filter((v) => v.impact !== "serious" && v.impact !== "critical"),
  };
}

/** One readable line per violation, for assertion messages and logs. */
export function formatViolations(report: A11yReport): string {
  const lines = [...report.blocking, ...report.advisory].map((v) =>
    `  [${v.impact}] ${v.id}: ${v.help} (${v.targets.join(", ")})`
  );
  return `${report.label}: ${lines.length} violation(s)\n${lines.join("\n")}`;
}

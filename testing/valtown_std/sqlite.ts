/**
 * Stand-in for Val Town's val-scoped `https://esm.town/v/std/sqlite/main.ts`, mapped in by
 * `--import-map` in `testing/deployed_test.ts`. `sqlite.execute()` and `sqlite.batch()` are
 * forwarded over loopback HTTP to a libSQL client in the test process; rows come back as objects,
 * as the val-scoped client returns them.
 *
 * @module
 */

/** One statement. */
export interface InStatement {
  sql: string;
  args?: unknown[] | Record<string, unknown>;
}

/** A result in the shape the val-scoped client returns. */
export interface ResultSet {
  columns: string[];
  rows: Record<string, unknown>[];
  rowsAffected: number;
  lastInsertRowid: number | null;
}

async function call(body: unknown): Promise<unknown> {
  const url = Deno.env.get("VALTOWN_STANDIN_SQLITE_URL");
  if (!url) {
    throw new Error(
      "Cannot reach SQLite: VALTOWN_STANDIN_SQLITE_URL is not set",
    );
  }
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`SQLite error: ${data?.error ?? res.status}`);
  return data;
}

/** The val-scoped database. */
export const sqlite = {
  async execute(stmt: InStatement | string): Promise<ResultSet> {
    const s = typeof stmt === "string" ? { sql: stmt } : stmt;
    return await call({ op: "execute", stmt: s }) as ResultSet;
  },
  async batch(
    stmts: (InStatement | string)[],
    mode = "deferred",
  ): Promise<ResultSet[]> {
    const list = stmts.map((s) => typeof s === "string" ? { sql: s } : s);
    return await call({ op: "batch", stmts: list, mode }) as ResultSet[];
  },
};

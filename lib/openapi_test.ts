import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { startTestApp } from "../testing/server.ts";
import { webhookRoutes } from "../routes/webhooks.ts";
import { apiRoutes } from "../routes/api.ts";
import { buildOpenApiDocument, OPERATIONS, OTHER_OPERATIONS } from "./openapi.ts";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters?: {
          name: string;
          in: string;
          schema: Record<string, unknown>;
        }[];
        responses: Record<string, unknown>;
        requestBody?: unknown;
      }
    >
  >;
};

Deno.test("every /api, /auth and /webhooks route the app serves is in the OpenAPI document, and nothing else", async () => {
  const t = await startTestApp();
  try {
    const app = createApp(t.deps);
    // The API and webhook routes are mounted lazily (catch-alls); list the sub-apps' own routes too.
    const webhooks = webhookRoutes(t.deps).routes.map((r) => ({
      ...r,
      path: `/webhooks${r.path}`,
    }));
    const served = new Set(
      [...app.routes, ...apiRoutes(t.deps).routes, ...webhooks]
        .filter((r) => r.method !== "ALL" && /^\/(api|auth|webhooks)\//.test(r.path))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "")}`),
    );
    const documented = new Set(
      [...OPERATIONS, ...OTHER_OPERATIONS].map((o) => `${o.method.toUpperCase()} ${o.path}`),
    );
    assert.deepEqual([...served].sort(), [...documented].sort());

    const res = await fetch(`${t.baseUrl}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Doc;
    assert.deepEqual(doc, JSON.parse(JSON.stringify(buildOpenApiDocument())));
  } finally {
    await t.close();
  }
});

Deno.test("the OpenAPI document is 3.1 and carries the routes' zod constraints", () => {
  const doc = buildOpenApiDocument() as unknown as Doc;
  assert.equal(doc.openapi, "3.1.0");
  const list = doc.paths["/api/sessions"].get;
  const limit = list.parameters!.find((p) => p.name === "limit")!;
  assert.equal(limit.in, "query");
  assert.equal(limit.schema.minimum, 1);
  assert.equal(limit.schema.maximum, 100);
  const one = doc.paths["/api/sessions/{id}"];
  assert.equal(one.get.parameters![0].schema.pattern, "^[A-Za-z0-9_-]{22,64}$");
  assert.ok(one.get.responses["404"]);
  assert.ok(one.delete.responses["200"]);
  const mint = doc.paths["/api/session"].post.requestBody as {
    content: {
      "application/json": {
        schema: {
          properties: Record<string, unknown>;
          additionalProperties: boolean;
        };
      };
    };
  };
  assert.ok("model" in mint.content["application/json"].schema.properties);
  assert.equal(
    mint.content["application/json"].schema.additionalProperties,
    false,
  );
  const ids = new Set<string>();
  for (const ops of Object.values(doc.paths)) {
    for (const op of Object.values(ops)) {
      assert.match(op.operationId, /^(get|post|delete)[A-Z][A-Za-z]+$/, op.operationId);
      assert.doesNotMatch(op.operationId, /undefined/);
      assert.ok(
        !ids.has(op.operationId),
        `duplicate operationId ${op.operationId}`,
      );
      ids.add(op.operationId);
    }
  }
});

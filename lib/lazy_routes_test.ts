import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { lazyRoutes } from "./lazy_routes.ts";

function outerApp(load: () => Promise<Hono>) {
  const app = new Hono();
  app.route("/hooks", lazyRoutes("/hooks", load));
  app.get("/", (c) => c.text("page"));
  app.notFound((c) => c.json({ error: { code: "not_found", message: "No such route" } }, 404));
  app.onError((err, c) => c.json({ error: { code: "internal_error", message: err.message } }, 500));
  return app;
}

Deno.test("lazyRoutes() loads its sub-app on the first request to it, once", async () => {
  let loads = 0;
  const app = outerApp(() => {
    loads++;
    const sub = new Hono();
    sub.post("/openai", async (c) => c.json({ body: await c.req.text(), env: c.env }));
    sub.get("/boom", () => {
      throw new Error("sub-app failed");
    });
    return Promise.resolve(sub);
  });
  assert.equal(await (await app.request("/")).text(), "page");
  assert.equal(loads, 0);
  const env = { remoteAddr: { hostname: "127.0.0.1" } };
  const res = await app.request("/hooks/openai", { method: "POST", body: "hello" }, env);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { body: "hello", env });
  const missing = await app.request("/hooks/nothing");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
  const boom = await app.request("/hooks/boom");
  assert.equal(boom.status, 500);
  assert.deepEqual((await boom.json()).error, {
    code: "internal_error",
    message: "sub-app failed",
  });
  assert.equal(loads, 1);
});

Deno.test("lazyRoutes(): a failed load answers through the error handler and is retried", async () => {
  let loads = 0;
  const app = outerApp(() => {
    loads++;
    if (loads === 1) return Promise.reject(new Error("module unavailable"));
    const sub = new Hono();
    sub.get("/x", (c) => c.text("loaded"));
    return Promise.resolve(sub);
  });
  assert.equal((await app.request("/hooks/x")).status, 500);
  assert.equal(await (await app.request("/hooks/x")).text(), "loaded");
  assert.equal(loads, 2);
});

Deno.test("lazyRoutes(): the sub-app sees the outer middleware's variables, and they see its own", async () => {
  type Vars = { Variables: { who: string; seenBy: string[] } };
  const app = new Hono<Vars>();
  let after = "";
  app.use(async (c, next) => {
    c.set("who", "client-1");
    c.set("seenBy", []);
    await next();
    after = c.get("who");
  });
  app.route(
    "/hooks",
    lazyRoutes("/hooks", () => {
      const sub = new Hono<Vars>();
      sub.get("/x", (c) => {
        c.get("seenBy").push("sub");
        const who = c.get("who");
        c.set("who", `${who}+sub`);
        return c.text(who);
      });
      return Promise.resolve(sub as unknown as Hono);
    }),
  );
  assert.equal(await (await app.request("/hooks/x")).text(), "client-1");
  assert.equal(after, "client-1+sub");
});

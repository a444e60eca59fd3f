import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { openStore } from "../store/mod.ts";
import { loadConfig } from "../config.ts";
import {
  ACCESS_COOKIE,
  accessCodeMatches,
  accessGate,
  signAccessCookie,
  signinThrottle,
  verifyAccessCookie,
} from "./access.ts";
import { secondsToWindowEnd } from "./windows.ts";

const SECRET = "s".repeat(32);

Deno.test("access cookie round-trips and rejects tampering, expiry and a changed code", async () => {
  const exp = Math.floor(Date.now() / 1000) + 60;
  const value = await signAccessCookie(SECRET, "open-sesame", exp);
  assert.match(value, /^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyAccessCookie(SECRET, "open-sesame", value), true);
  assert.equal(await verifyAccessCookie(SECRET, "other-code", value), false);
  assert.equal(
    await verifyAccessCookie("t".repeat(32), "open-sesame", value),
    false,
  );
  assert.equal(
    await verifyAccessCookie(SECRET, "open-sesame", value, (exp + 1) * 1000),
    false,
  );
  const [v, e, sig] = value.split(".");
  const flipped = sig[0] === "A" ? "B" + sig.slice(1) : "A" + sig.slice(1);
  assert.equal(
    await verifyAccessCookie(SECRET, "open-sesame", `${v}.${e}.${flipped}`),
    false,
  );
  assert.equal(
    await verifyAccessCookie(
      SECRET,
      "open-sesame",
      `${v}.${Number(e) + 9}.${sig}`,
    ),
    false,
  );
  for (
    const junk of [
      undefined,
      "",
      "v1..",
      "v2.1.x",
      "v1.1." + "=".repeat(43),
      "x".repeat(300),
    ]
  ) {
    assert.equal(await verifyAccessCookie(SECRET, "open-sesame", junk), false);
  }
});

Deno.test("accessCodeMatches compares exactly", async () => {
  assert.equal(
    await accessCodeMatches(SECRET, "open-sesame", "open-sesame"),
    true,
  );
  assert.equal(
    await accessCodeMatches(SECRET, "open-sesame", "open-sesam"),
    false,
  );
  assert.equal(
    await accessCodeMatches(SECRET, "open-sesame", "open-sesame "),
    false,
  );
  assert.equal(await accessCodeMatches(SECRET, "open-sesame", ""), false);
});

function gated(accessCode: string | null) {
  const a = new Hono();
  a.use(accessGate({ accessCode, signingSecret: SECRET }));
  a.get("/", (c) => c.html("<p>page</p>"));
  a.get("/s/:id", (c) => c.html("<p>share</p>"));
  a.get("/api/config", (c) => c.json({ ok: true }));
  a.post("/api/session", (c) => c.json({ ok: true }));
  a.get("/auth/signin", (c) => c.html("<form></form>"));
  a.post("/webhooks/openai", (c) => c.json({ ok: true }));
  a.post("/internal/sideband", (c) => c.json({ ok: true }));
  a.post("/webhooks/other", (c) => c.json({ ok: true }));
  return a;
}

Deno.test("accessGate: pages redirect to sign-in with a plain 302, API gets 401 JSON", async () => {
  const a = gated("open-sesame");
  const page = await a.request("/s/abc?x=1", {
    headers: { Accept: "text/html,*/*" },
  });
  assert.equal(page.status, 302);
  assert.equal(
    page.headers.get("location"),
    "/auth/signin?next=%2Fs%2Fabc%3Fx%3D1",
  );
  const api = await a.request("/api/config", {
    headers: { Accept: "text/html" },
  });
  assert.equal(api.status, 401);
  assert.equal((await api.json()).error.code, "access_code_required");
  const post = await a.request("/api/session", { method: "POST" });
  assert.equal(post.status, 401);
  const other = await a.request("/webhooks/other", { method: "POST" });
  assert.equal(other.status, 401);
});

Deno.test("accessGate: sign-in, the webhook and internal routes stay open", async () => {
  const a = gated("open-sesame");
  assert.equal((await a.request("/auth/signin")).status, 200);
  assert.equal(
    (await a.request("/webhooks/openai", { method: "POST" })).status,
    200,
  );
  assert.equal(
    (await a.request("/internal/sideband", { method: "POST" })).status,
    200,
  );
});

Deno.test("accessGate: a valid cookie passes, a forged or expired one does not", async () => {
  const a = gated("open-sesame");
  const good = await signAccessCookie(
    SECRET,
    "open-sesame",
    Math.floor(Date.now() / 1000) + 60,
  );
  const ok = await a.request("/api/config", {
    headers: { Cookie: `${ACCESS_COOKIE}=${good}` },
  });
  assert.equal(ok.status, 200);
  const forged = await signAccessCookie(
    "f".repeat(32),
    "open-sesame",
    9_999_999_999,
  );
  const bad = await a.request("/api/config", {
    headers: { Cookie: `${ACCESS_COOKIE}=${forged}` },
  });
  assert.equal(bad.status, 401);
  const old = await signAccessCookie(
    SECRET,
    "open-sesame",
    Math.floor(Date.now() / 1000) - 1,
  );
  const expired = await a.request("/", {
    headers: { Cookie: `${ACCESS_COOKIE}=${old}`, Accept: "text/html" },
  });
  assert.equal(expired.status, 302);
});

Deno.test("accessGate: no access code means no gate", async () => {
  const a = gated(null);
  assert.equal((await a.request("/api/config")).status, 200);
  assert.equal(
    (await a.request("/", { headers: { Accept: "text/html" } })).status,
    200,
  );
});

Deno.test("signinThrottle counts attempts first, so parallel guesses cannot slip past", async () => {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-access" });
  const store = await openStore(config, { url: ":memory:" });
  try {
    const now = 1_700_000_000_000;
    const t = signinThrottle({
      store,
      perClient: 3,
      global: 5,
      windowMs: 60_000,
    });
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => t.attempt("alice", now)),
    );
    assert.equal(
      burst.filter((w) => w === null).length,
      3,
      "exactly 3 of 10 parallel attempts",
    );
    const wait = await t.attempt("alice", now);
    assert.equal(wait, secondsToWindowEnd(60_000, now));
    assert.ok(wait !== null && wait > 0 && wait <= 60);
    assert.equal(await t.attempt("bob", now), null);
    await t.succeeded("bob", now); // a good sign-in gives its attempt back
    assert.equal(await t.attempt("bob", now), null);
    assert.equal(await t.attempt("carol", now), null);
    assert.notEqual(
      await t.attempt("dave", now),
      null,
      "global cap reached (3 + bob + carol)",
    );
    assert.equal(await t.attempt("alice", now + 60_000), null, "next window");
  } finally {
    await store.close();
  }
});

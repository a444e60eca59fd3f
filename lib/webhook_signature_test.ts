import assert from "node:assert/strict";
import {
  MAX_SIGNATURES,
  signWebhook,
  verifyWebhook,
  type VerifyWebhookOptions,
  WebhookSecretError,
} from "./webhook_signature.ts";

// The test vector from the protocol reference (§7.2).
const SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PLAIN_SECRET = "plain-secret";
const ID = "wh_test_0001";
const TIMESTAMP = 1750287078;
const BODY =
  '{"object":"event","id":"evt_test_0001","type":"realtime.call.incoming","created_at":1750287018,"data":{"call_id":"rtc_test_0001","sip_headers":[{"name":"From","value":"sip:+15555550100@sip.example.com"}]}}';
const SIGNATURE = "v1,+Z1iVIwyZ/CUWEoInmK2YUIEp2H8i5BKe1NRHYFqRfs=";
const PLAIN_SIGNATURE = "v1,CA6V3b7KOp7wJHi/k0DV9BU0OgPyaedsAcocxUtFMo8=";
const NOW = TIMESTAMP * 1000;

function headers(
  signature: string,
  id = ID,
  timestamp = String(TIMESTAMP),
): Headers {
  return new Headers({
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signature,
  });
}

function verify(overrides: Partial<VerifyWebhookOptions>) {
  return verifyWebhook({
    secret: SECRET,
    headers: headers(SIGNATURE),
    body: BODY,
    now: NOW,
    ...overrides,
  });
}

Deno.test("signWebhook reproduces the documented test vector (whsec_ and plain secret)", async () => {
  for (const [secret, expected] of [[SECRET, SIGNATURE], [PLAIN_SECRET, PLAIN_SIGNATURE]]) {
    const signature = await signWebhook({ secret, id: ID, timestamp: TIMESTAMP, body: BODY });
    assert.equal(signature, expected, secret);
  }
});

Deno.test("verifyWebhook accepts the documented test vector with both secret forms", async () => {
  assert.deepEqual(await verify({}), {
    ok: true,
    id: ID,
    timestamp: TIMESTAMP,
  });
  assert.deepEqual(
    await verify({ secret: PLAIN_SECRET, headers: headers(PLAIN_SIGNATURE) }),
    { ok: true, id: ID, timestamp: TIMESTAMP },
  );
  // Each signature only matches its own secret.
  const crossed = await verify({ secret: PLAIN_SECRET });
  assert.equal(crossed.ok, false);
  assert.equal(!crossed.ok && crossed.code, "invalid_signature");
});

Deno.test("verifyWebhook accepts any matching entry among several signatures", async () => {
  const wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const result = await verify({
    headers: headers(`v2,whatever ${wrong} not-base64!! ${SIGNATURE}`),
  });
  assert.equal(result.ok, true);
  // A bare value without a version prefix counts as v1, like the official SDKs.
  assert.equal(
    (await verify({ headers: headers(SIGNATURE.slice(3)) })).ok,
    true,
  );
  // A correct MAC under another version label is not accepted.
  const relabelled = await verify({
    headers: headers(SIGNATURE.replace("v1,", "v2,")),
  });
  assert.equal(!relabelled.ok && relabelled.code, "malformed_signature");
});

Deno.test("verifyWebhook checks at most MAX_SIGNATURES entries, so a long header costs little", async () => {
  const wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const within = Array(MAX_SIGNATURES - 1).fill(wrong).join(" ");
  assert.equal((await verify({ headers: headers(`${within} ${SIGNATURE}`) })).ok, true);
  const beyond = Array(MAX_SIGNATURES).fill(wrong).join(" ");
  const late = await verify({ headers: headers(`${beyond} ${SIGNATURE}`) });
  assert.equal(!late.ok && late.code, "invalid_signature");
  const flood = Array(5000).fill(wrong).join(" ");
  const flooded = await verify({ headers: headers(`${flood} ${SIGNATURE}`) });
  assert.equal(!flooded.ok && flooded.status, 401);
});

Deno.test("verifyWebhook refuses forged deliveries with 401", async () => {
  const cases: Partial<VerifyWebhookOptions>[] = [
    { body: BODY.replace("rtc_test_0001", "rtc_test_0002") },
    // Re-serialised JSON is different text: signatures cover the raw body only.
    { body: JSON.stringify(JSON.parse(BODY), null, 1) },
    { headers: headers(SIGNATURE, "wh_test_0002") },
    { secret: "whsec_" + new Uint8Array(32).fill(7).toBase64() },
    { headers: headers("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") },
    // A truncated MAC (valid base64, 16 of the 32 bytes) must not pass either.
    {
      headers: headers(
        `v1,${Uint8Array.fromBase64(SIGNATURE.slice(3)).slice(0, 16).toBase64()}`,
      ),
    },
  ];
  for (const overrides of cases) {
    const result = await verify(overrides);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.status, 401);
    assert.equal(!result.ok && result.code, "invalid_signature");
  }
});

Deno.test("verifyWebhook enforces the ±300 s tolerance both ways", async () => {
  assert.equal((await verify({ now: NOW + 300_000 })).ok, true);
  assert.equal((await verify({ now: NOW - 300_000 })).ok, true);
  const stale = await verify({ now: NOW + 301_000 });
  assert.deepEqual(
    !stale.ok && [stale.status, stale.code],
    [401, "timestamp_too_old"],
  );
  const future = await verify({ now: NOW - 301_000 });
  assert.deepEqual(
    !future.ok && [future.status, future.code],
    [401, "timestamp_too_new"],
  );
  // A custom tolerance is honoured.
  const strict = await verify({ now: NOW + 11_000, toleranceSeconds: 10 });
  assert.equal(!strict.ok && strict.code, "timestamp_too_old");
});

Deno.test("verifyWebhook refuses malformed deliveries with 400", async () => {
  const missing = [
    new Headers({
      "webhook-timestamp": String(TIMESTAMP),
      "webhook-signature": SIGNATURE,
    }),
    new Headers({ "webhook-id": ID, "webhook-signature": SIGNATURE }),
    new Headers({ "webhook-id": ID, "webhook-timestamp": String(TIMESTAMP) }),
    new Headers(),
  ];
  for (const h of missing) {
    const result = await verify({ headers: h });
    assert.deepEqual(!result.ok && [result.status, result.code], [
      400,
      "missing_headers",
    ]);
  }
  for (
    const ts of ["soon", "1750287078.5", "-1750287078", "1e9", "0x68530a66"]
  ) {
    const result = await verify({ headers: headers(SIGNATURE, ID, ts) });
    assert.deepEqual(!result.ok && [result.status, result.code], [
      400,
      "malformed_timestamp",
    ]);
  }
  for (const signature of ["v1, ", "v1,%%%", "v1,+Z1iVIwyZ/CUWEoIn"]) {
    const result = await verify({ headers: headers(signature) });
    assert.deepEqual(!result.ok && [result.status, result.code], [
      400,
      "malformed_signature",
    ]);
  }
});

Deno.test("verifyWebhook throws WebhookSecretError for an unusable secret", async () => {
  await assert.rejects(
    () => verify({ secret: "whsec_not base64!" }),
    WebhookSecretError,
  );
  await assert.rejects(() => verify({ secret: "whsec_" }), WebhookSecretError);
});

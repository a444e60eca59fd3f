/**
 * The suite's target selection, cost estimate and reports, without a network: `--live` needs
 * only `OPENAI_API_KEY` and points at OpenAI; open questions are observations there, never
 * failures; the reports carry every row.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CASES } from "./cases/mod.ts";
import { CaseContext } from "./context.ts";
import { LOGPROBS_CURRENT } from "./questions.ts";
import {
  costLine,
  estimateCost,
  formatTable,
  renderJson,
  renderMarkdown,
  UNKNOWN_PRICE_PER_MINUTE_USD,
} from "./report.ts";
import { runSuite, selectCases } from "./suite.ts";
import { LIVE_BASE_URL, openTarget, SelectionError, selectTarget, type Target } from "./target.ts";
import type { Case } from "./types.ts";

const noEnv = () => undefined;
const keyEnv = (key: string) => (name: string) => name === "OPENAI_API_KEY" ? key : undefined;

Deno.test("selectTarget(): the emulator by default, OpenAI with --live and a key", () => {
  assert.deepEqual(selectTarget([], noEnv), {
    kind: "emulator",
    apiKey: null,
    only: [],
    out: null,
    help: false,
  });
  // The emulator run never reads the key, even when one is set.
  assert.equal(selectTarget([], keyEnv("sk-live-123")).apiKey, null);
  assert.deepEqual(
    selectTarget(["--live", "--only", "rest.", "--only", "audio."], keyEnv(" sk-live-123 ")),
    {
      kind: "live",
      apiKey: "sk-live-123",
      only: ["rest.", "audio."],
      out: "conformance-live",
      help: false,
    },
  );
  assert.equal(selectTarget(["--live", "--out", "r/x"], keyEnv("sk-a")).out, "r/x");
  assert.equal(selectTarget(["--out", "here"], noEnv).out, "here");
  assert.equal(selectTarget(["--live", "--help"], noEnv).help, true);
});

Deno.test("selectTarget(): clear errors for what it cannot run", () => {
  assert.throws(() => selectTarget(["--live"], noEnv), SelectionError);
  assert.throws(() => selectTarget(["--live"], keyEnv("  ")), /needs OPENAI_API_KEY/);
  assert.throws(() => selectTarget(["--live"], keyEnv("ek_123")), /standard API key/);
  assert.throws(() => selectTarget(["--only"], noEnv), /--only needs a value/);
  assert.throws(() => selectTarget(["--only", "--live"], noEnv), /needs a value/);
  assert.throws(() => selectTarget(["--fast"], noEnv), /Unknown argument "--fast"/);
});

Deno.test("openTarget(): --live points at OpenAI with the key and starts nothing", async () => {
  const t = await openTarget({ kind: "live", apiKey: "sk-test" });
  assert.deepEqual([t.kind, t.baseUrl, t.apiKey, t.emulator], [
    "live",
    LIVE_BASE_URL,
    "sk-test",
    null,
  ]);
  await t.close();
});

Deno.test("estimateCost(): catalog prices per minute of audio; unpriced models at the upper bound", () => {
  const cases: Case[] = [
    {
      id: "a",
      title: "",
      source: "",
      liveAudio: [{ model: "gpt-transcribe", seconds: 60 }],
      run: async () => {},
    },
    {
      id: "b",
      title: "",
      source: "",
      liveAudio: [{ model: "gpt-live-transcribe", seconds: 120 }],
      run: async () => {},
    },
    {
      id: "c",
      title: "",
      source: "",
      liveAudio: [{ model: "whisper-1", seconds: 60 }],
      run: async () => {},
    },
    // The translation model is priced apart from the transcription catalog.
    {
      id: "e",
      title: "",
      source: "",
      liveAudio: [{ model: "gpt-realtime-translate", seconds: 60 }],
      run: async () => {},
    },
    // Not run live: not counted.
    {
      id: "d",
      title: "",
      source: "",
      targets: ["emulator"],
      liveAudio: [{ model: "gpt-transcribe", seconds: 600 }],
      run: async () => {},
    },
  ];
  const cost = estimateCost(cases);
  assert.equal(cost.minutes, 5);
  assert.equal(
    cost.usd,
    Math.ceil((0.0045 + 2 * 0.017 + UNKNOWN_PRICE_PER_MINUTE_USD + 0.034) * 100) / 100,
  );
  assert.deepEqual(cost.unpricedModels, ["whisper-1"]);
  assert.match(
    costLine(cost),
    /^Estimated cost: about \$0\.09 for 5 min of audio \(whisper-1 counted/,
  );
  // The whole suite: a few cents, as the docs say.
  const all = estimateCost(CASES);
  assert.ok(all.usd > 0 && all.usd <= 0.1, costLine(all));
});

Deno.test("selectCases(): --only filters by id prefix", () => {
  assert.ok(selectCases(CASES, ["rest."]).every((c) => c.id.startsWith("rest.")));
  assert.equal(selectCases(CASES, []).length, CASES.length);
  assert.equal(selectCases(CASES, ["nothing"]).length, 0);
  assert.equal(new Set(CASES.map((c) => c.id)).size, CASES.length, "case ids are unique");
});

/** A live target that must never be reached (the cases below make no request). */
const offline: Target = {
  kind: "live",
  baseUrl: "http://127.0.0.1:9",
  apiKey: "sk-test",
  emulator: null,
  close: () => Promise.resolve(),
};

Deno.test("against OpenAI an open question is an observation, emulator-only checks are left out, emulator-only cases skipped", async () => {
  const ctx = new CaseContext(offline, "x.y", "src");
  ctx.question(LOGPROBS_CURRENT, "gpt-transcribe", true, false);
  ctx.emulatorOnly("design detail", 1, 2);
  ctx.check("plain", 1, 1);
  assert.deepEqual(ctx.results.map((r) => [r.what, r.status]), [["gpt-transcribe", "observed"], [
    "plain",
    "pass",
  ]]);
  assert.match(ctx.results[0].expected, /^unknown \(emulator: true\)$/);
  const run = await runSuite(offline, {
    cases: [
      {
        id: "e.only",
        title: "needs the emulator",
        source: "s",
        targets: ["emulator"],
        skipReason: "why",
        run: () => Promise.reject(new Error("ran")),
      },
      { id: "e.throws", title: "", source: "s", run: () => Promise.reject(new Error("boom")) },
      { id: "e.empty", title: "", source: "s", run: async () => {} },
    ],
  });
  assert.deepEqual(run.results.map((r) => [r.caseId, r.status, r.observed]), [
    ["e.only", "skipped", "-"],
    ["e.throws", "fail", "boom"],
    ["e.empty", "fail", "none"],
  ]);
  assert.equal(run.results[0].source, "why");
});

Deno.test("reports: the table, markdown (failures, open questions, every row) and JSON", () => {
  const run = {
    target: "live" as const,
    startedAt: "2026-12-02T00:00:00.000Z",
    durationMs: 1234,
    results: [
      {
        caseId: "rest.a",
        what: "ok | pipe",
        expected: "1",
        observed: "1",
        status: "pass" as const,
        source: "§1",
      },
      {
        caseId: "rest.b",
        what: "bad",
        expected: "200",
        observed: "500",
        status: "fail" as const,
        source: "§2",
      },
      {
        caseId: "q.c",
        what: "seen",
        expected: "unknown",
        observed: "true",
        status: "observed" as const,
        source: "open question: q",
      },
    ],
    questions: [{
      id: "q",
      question: "Is it?",
      emulatorDefault: "yes",
      observations: [{ what: "seen", observed: "true" }],
    }],
  };
  const table = formatTable(run.results);
  assert.equal(table.split("\n").length, 5);
  assert.match(table, /rest\.b: bad .*\| 200 .*\| 500 .*\| FAIL \| §2/);
  const md = renderMarkdown(run, { usd: 0.05, minutes: 3, unpricedModels: [] });
  assert.match(md, /^# Realtime conformance run against OpenAI/);
  assert.match(md, /1 passed, 1 failed, 1 observed/);
  assert.match(md, /Estimated cost: about \$0\.05/);
  assert.match(
    md,
    /## Failed checks[\s\S]*\| rest\.b \| bad \| `200` \| `500` \| fail \| §2 \|[\s\S]*## Open questions/,
  );
  assert.match(md, /### q\n\nIs it\?\n\nEmulator default: yes\n\n- seen: `true`/);
  assert.match(md, /ok \\\| pipe/);
  const json = JSON.parse(renderJson(run, null));
  assert.deepEqual(json.summary, { pass: 1, fail: 1, observed: 1, skipped: 0 });
  assert.equal(json.results.length, 3);
  assert.equal(json.questions[0].id, "q");
});

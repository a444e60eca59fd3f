import assert from "node:assert/strict";
import SrtParser from "npm:srt-parser-2@1.2.3";
import webvtt from "npm:webvtt-parser@2.2.0";
import { formatClock, formatTimestamp, toCues, toJson, toSrt, toTxt, toVtt } from "./formats.js";
import type { Utterance } from "./transcript.js";

function utt(itemId: string, over: Partial<Utterance>): Utterance {
  return {
    itemId,
    previousItemId: null,
    status: "final",
    text: itemId,
    startMs: null,
    endMs: null,
    confidence: null,
    error: null,
    languages: null,
    committed: true,
    ...over,
  };
}

const SAMPLE: Utterance[] = [
  utt("i1", {
    text: "Hello world.",
    startMs: 1200,
    endMs: 2750,
    confidence: 0.93,
  }),
  utt("i2", { text: "still talking", status: "partial", startMs: 3000 }),
  utt("i3", {
    text: "Tom & Jerry <img src=x onerror=alert(1)> --> end",
    startMs: 3_723_004,
    endMs: 3_725_500,
  }),
  utt("i4", { text: "failed one", status: "failed", error: "boom" }),
  utt("i5", {
    text: "line one\nline two",
    startMs: 3_726_000,
    endMs: 3_727_000,
    languages: ["en"],
  }),
];
const FINALS = SAMPLE.filter((u) => u.status === "final");

// deno-lint-ignore no-explicit-any
const { WebVTTParser } = webvtt as any;

function decodeEntities(s: string): string {
  return s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll(
    "&amp;",
    "&",
  );
}

Deno.test("timestamps: SRT comma, VTT dot, hh:mm:ss; clock m:ss", () => {
  assert.equal(formatTimestamp(3_723_004, ","), "01:02:03,004");
  assert.equal(formatTimestamp(0, "."), "00:00:00.000");
  assert.equal(formatTimestamp(59_999.6, "."), "00:01:00.000");
  assert.equal(formatClock(65_400), "1:05");
  assert.equal(formatClock(3_723_004), "1:02:03");
  assert.equal(formatClock(null), "–:––");
});

Deno.test("SRT parses with srt-parser-2 into the final utterances' times and text", () => {
  const srt = toSrt(SAMPLE);
  const cues = new SrtParser().fromSrt(srt);
  assert.equal(cues.length, FINALS.length);
  cues.forEach((cue, i) => {
    const u = FINALS[i];
    assert.equal(cue.id, String(i + 1));
    assert.equal(Math.round(cue.startSeconds * 1000), u.startMs);
    assert.equal(Math.round(cue.endSeconds * 1000), u.endMs);
  });
  assert.equal(cues[0].text, "Hello world.");
  assert.equal(cues[1].text, "Tom & Jerry <img src=x onerror=alert(1)> -> end");
  assert.equal(cues[2].text, "line one line two");
  assert.match(srt, /^1\n00:00:01,200 --> 00:00:02,750\nHello world\.\n\n2\n/);
});

Deno.test("VTT parses with webvtt-parser; markup is escaped, not parsed", () => {
  const vtt = toVtt(SAMPLE);
  const parsed = new WebVTTParser().parse(vtt, "subtitles");
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.cues.length, FINALS.length);
  parsed.cues.forEach(
    (cue: { startTime: number; endTime: number; text: string }, i: number) => {
      const u = FINALS[i];
      assert.equal(Math.round(cue.startTime * 1000), u.startMs);
      assert.equal(Math.round(cue.endTime * 1000), u.endMs);
      assert.equal(decodeEntities(cue.text), u.text.replace(/\n/g, " "));
    },
  );
  // The parser builds a tree: escaped text must yield text nodes only, no <img> tag.
  const tree = parsed.cues[1].tree;
  assert.ok(tree.children.every((n: { type: string }) => n.type === "text"));
  assert.ok(!vtt.includes("<img"));
  assert.ok(
    !vtt.split("\n").some((l) => l.includes("-->") && !/^\d\d:\d\d:\d\d\.\d{3} --> /.test(l)),
  );
  // Negative control: the same parser does see a tag when text is not escaped.
  const raw = new WebVTTParser().parse(
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na <b>b</b>\n",
  );
  assert.ok(
    raw.cues[0].tree.children.some((n: { type: string }) => n.type === "object"),
  );
});

Deno.test("missing times fall back: start = previous end, end = start + reading time", () => {
  const cues = toCues([
    utt("a", { text: "one two three", startMs: null, endMs: null }),
    utt("b", { text: "four", startMs: 5000, endMs: 4000 }),
    utt("c", { text: "five six", startMs: null, endMs: 9000 }),
    utt("d", { text: "   ", startMs: 1 }),
  ]);
  assert.deepEqual(cues.map((c) => [c.startMs, c.endMs]), [[0, 1200], [
    5000,
    5500,
  ], [5500, 9000]]);
  const srt = new SrtParser().fromSrt(toSrt([utt("a", { text: "x" })]));
  assert.equal(srt[0].startSeconds, 0);
  assert.equal(srt[0].endSeconds, 1);
});

Deno.test("cue starts never go back: an earlier start is raised to the previous cue's", () => {
  // A later call's offset is an estimate; its first line may land just before the last one.
  const lines = [
    utt("a", { text: "end of call one", startMs: 58_000, endMs: 59_500 }),
    utt("b", { text: "start of call two", startMs: 57_900, endMs: 61_000 }),
    utt("c", { text: "then", startMs: 62_000, endMs: 63_000 }),
  ];
  assert.deepEqual(toCues(lines).map((c) => [c.startMs, c.endMs]), [
    [58_000, 59_500],
    [58_000, 61_000],
    [62_000, 63_000],
  ]);
  const starts = new SrtParser().fromSrt(toSrt(lines)).map((c) => c.startSeconds);
  assert.deepEqual(starts, [58, 58, 62]);
});

Deno.test("TXT holds final lines only, optionally with timestamps", () => {
  assert.equal(
    toTxt(SAMPLE),
    "Hello world.\nTom & Jerry <img src=x onerror=alert(1)> --> end\nline one line two\n",
  );
  assert.equal(
    toTxt(SAMPLE, { timestamps: true }).split("\n")[1].slice(0, 11),
    "[1:02:03] T",
  );
  assert.equal(toTxt([]), "");
  assert.equal(toVtt([]), "WEBVTT\n");
});

Deno.test("JSON carries meta and final utterances with raw times", () => {
  const doc = JSON.parse(
    toJson(SAMPLE, { sessionId: "s1", model: "gpt-transcribe" }),
  );
  assert.equal(doc.sessionId, "s1");
  assert.equal(doc.model, "gpt-transcribe");
  assert.deepEqual(doc.utterances.map((u: { itemId: string }) => u.itemId), [
    "i1",
    "i3",
    "i5",
  ]);
  assert.deepEqual(doc.utterances[0], {
    itemId: "i1",
    previousItemId: null,
    text: "Hello world.",
    startMs: 1200,
    endMs: 2750,
    confidence: 0.93,
    languages: null,
  });
  assert.deepEqual(doc.utterances[2].languages, ["en"]);
});

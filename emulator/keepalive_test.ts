/**
 * Keep-alive pings of the emulator's WebSockets (protocol reference §4.4, §8).
 * WebSocket APIs (browsers, Deno) answer pings silently and never surface them, so
 * these tests speak RFC 6455 over a raw TCP connection and look at the frames.
 *
 * What is observable (docs/emulator.md): a PING (opcode 9) after
 * `pingIntervalSeconds` without a frame from the client; with PONGs it repeats
 * every interval and the socket stays open; without a PONG the server closes with
 * 1001 "No response from ping frame.".
 *
 * @module
 */
import assert from "node:assert/strict";
import { EventSocket, post, startTestEmulator, wsUrl } from "./testkit.ts";

interface Frame {
  opcode: number;
  payload: Uint8Array;
  /** ms since the connection was opened */
  at: number;
}

/** A minimal RFC 6455 client over TCP that records every frame it receives. */
class RawSocket {
  readonly frames: Frame[] = [];
  readonly done: Promise<void>;
  #conn: Deno.TcpConn;
  #t0 = performance.now();
  #autoPong: boolean;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn, autoPong: boolean) {
    this.#conn = conn;
    this.#autoPong = autoPong;
    this.done = this.#read();
  }

  /** Connects and performs the opening handshake; returns the status line too. */
  static async open(
    baseUrl: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    autoPong: boolean,
  ): Promise<{ socket: RawSocket; status: string }> {
    const url = new URL(baseUrl);
    const conn = await Deno.connect({
      hostname: url.hostname,
      port: Number(url.port),
    });
    const key = crypto.getRandomValues(new Uint8Array(16)).toBase64();
    const lines = [
      `GET ${pathAndQuery} HTTP/1.1`,
      `Host: ${url.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    // Read the response head byte by byte so no frame bytes are consumed.
    const head: number[] = [];
    const one = new Uint8Array(1);
    while (!(head.length >= 4 && head.slice(-4).join() === "13,10,13,10")) {
      if (await conn.read(one) === null) throw new Error("closed in handshake");
      head.push(one[0]);
    }
    const status = new TextDecoder().decode(new Uint8Array(head)).split(
      "\r\n",
    )[0];
    return { socket: new RawSocket(conn, autoPong), status };
  }

  async #read(): Promise<void> {
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    while (true) {
      let n: number | null;
      try {
        n = await this.#conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) break;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      while (true) {
        const frame = parseFrame(buf);
        if (!frame) break;
        buf = buf.subarray(frame.size);
        const f = { ...frame, at: performance.now() - this.#t0 };
        this.frames.push(f);
        if (f.opcode === 9 && this.#autoPong) await this.send(10, f.payload);
        if (f.opcode === 8) await this.send(8, f.payload.subarray(0, 2));
        this.#waiters.splice(0).forEach((w) => w());
      }
    }
    this.#waiters.splice(0).forEach((w) => w());
  }

  /** Sends one masked frame (client frames must be masked). */
  async send(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const len = payload.length;
    const header = len < 126 ? 2 : 4;
    const out = new Uint8Array(header + 4 + len);
    out[0] = 0x80 | opcode;
    if (len < 126) out[1] = 0x80 | len;
    else {
      out[1] = 0x80 | 126;
      out[2] = len >> 8;
      out[3] = len & 0xff;
    }
    out.set(mask, header);
    for (let i = 0; i < len; i++) {
      out[header + 4 + i] = payload[i] ^ mask[i % 4];
    }
    try {
      await this.#conn.write(out);
    } catch { /* peer gone */ }
  }

  /** Waits until `pred` holds for the frames received so far. */
  async until(pred: (f: Frame[]) => boolean, timeoutMs: number, what: string) {
    const deadline = performance.now() + timeoutMs;
    while (!pred(this.frames)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `Timed out waiting for ${what}; frames: ${this.frames.map((f) => f.opcode).join(",")}`,
        );
      }
      let timer = 0;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  /** Closes the TCP connection and waits for the reader to stop. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.done;
  }
}

function parseFrame(
  b: Uint8Array,
): { opcode: number; payload: Uint8Array; size: number } | null {
  if (b.length < 2) return null;
  const opcode = b[0] & 0x0f;
  let len = b[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = (b[2] << 8) | b[3];
    off = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
    off = 10;
  }
  if (b[1] & 0x80) off += 4; // server frames are never masked; tolerate anyway
  if (b.length < off + len) return null;
  return { opcode, payload: b.slice(off, off + len), size: off + len };
}

const PING = 9;
const CLOSE = 8;
const TEXT = 1;

Deno.test("§4.4 keep-alive: pings repeat while the client answers, the socket stays open", async () => {
  const emu = await startTestEmulator({ pingIntervalSeconds: 0.3 });
  const { socket, status } = await RawSocket.open(
    emu.baseUrl,
    "/v1/realtime?intent=transcription",
    { Authorization: `Bearer ${emu.apiKey}` },
    true,
  );
  try {
    assert.match(status, / 101 /);
    await socket.until(
      (f) => f.filter((x) => x.opcode === PING).length >= 3,
      10_000,
      "three pings",
    );
    const first = socket.frames[0];
    assert.equal(first.opcode, TEXT);
    assert.equal(
      JSON.parse(new TextDecoder().decode(first.payload)).type,
      "session.created",
    );
    assert.ok(!socket.frames.some((f) => f.opcode === CLOSE));
    const pings = socket.frames.filter((f) => f.opcode === PING);
    // Each ping follows the previous one (answered) by about one interval; no
    // timing assertion beyond ordering (timing goals belong in bench/).
    for (let i = 1; i < pings.length; i++) {
      assert.ok(pings[i].at > pings[i - 1].at);
    }
  } finally {
    await socket.close();
    await emu.close();
  }
});

Deno.test("§4.4 keep-alive: a client that never answers a ping is closed with 1001", async () => {
  const emu = await startTestEmulator({ pingIntervalSeconds: 0.3 });
  const { socket } = await RawSocket.open(
    emu.baseUrl,
    "/v1/realtime?intent=transcription",
    { Authorization: `Bearer ${emu.apiKey}` },
    false,
  );
  try {
    await socket.until(
      (f) => f.some((x) => x.opcode === CLOSE),
      10_000,
      "the close frame",
    );
    const ops = socket.frames.map((f) => f.opcode);
    assert.ok(ops.indexOf(PING) >= 0 && ops.indexOf(PING) < ops.indexOf(CLOSE));
    const close = socket.frames.find((f) => f.opcode === CLOSE)!;
    const code = (close.payload[0] << 8) | close.payload[1];
    assert.equal(code, 1001);
    assert.equal(
      new TextDecoder().decode(close.payload.subarray(2)),
      "No response from ping frame.",
    );
    // The session of that socket ended with it.
    await socket.done;
    const deadline = Date.now() + 5000;
    while (emu.control.calls().some((c) => c.state !== "ended")) {
      assert.ok(Date.now() < deadline, "the session ended");
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await socket.close();
    await emu.close();
  }
});

Deno.test("§4.4 keep-alive: a sideband gets pings; Deno's client answers them; 0 disables", async () => {
  const emu = await startTestEmulator({
    pingIntervalSeconds: 0.3,
    webhookRetryDelaysMs: [],
  });
  const off = await startTestEmulator({ pingIntervalSeconds: 0 });
  let sideband: RawSocket | null = null;
  let quiet: RawSocket | null = null;
  const std = new EventSocket(wsUrl(emu, "intent=transcription"), {
    headers: { Authorization: `Bearer ${emu.apiKey}` },
  });
  try {
    // A SIP call (the webhook goes nowhere) accepted, then a raw sideband on it.
    const ring = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: "http://127.0.0.1:9/hook",
      secret: "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    });
    const callId = ring.json!.callId;
    const accepted = await post(emu, `/v1/realtime/calls/${callId}/accept`, {
      type: "realtime",
    });
    assert.equal(accepted.status, 200, accepted.text);
    const sb = await RawSocket.open(
      emu.baseUrl,
      `/v1/realtime?call_id=${callId}`,
      { Authorization: `Bearer ${emu.apiKey}` },
      true,
    );
    sideband = sb.socket;
    assert.match(sb.status, / 101 /);
    await sideband.until(
      (f) => f.filter((x) => x.opcode === PING).length >= 2,
      10_000,
      "two pings on the sideband",
    );
    // No session.created on a sideband by default: pings are all it heard.
    assert.ok(sideband.frames.every((f) => f.opcode === PING));

    // Deno's WebSocket client pongs by itself: still open after several intervals.
    await std.opened;
    await std.waitFor("session.created");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(std.ws.readyState, WebSocket.OPEN);

    // With pings disabled a silent raw client hears nothing but session.created.
    quiet = (await RawSocket.open(
      off.baseUrl,
      "/v1/realtime?intent=transcription",
      { Authorization: `Bearer ${off.apiKey}` },
      false,
    )).socket;
    await quiet.until((f) => f.length >= 1, 5000, "session.created");
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(quiet.frames.map((f) => f.opcode), [TEXT]);
  } finally {
    await sideband?.close();
    await quiet?.close();
    await std.close();
    await off.close();
    await emu.close();
  }
});

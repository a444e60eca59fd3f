/**
 * Process helpers for benchmarks: CPU time and RSS of any process from `/proc`, free loopback
 * ports, and Deno subprocesses that are always stopped (kept by PID, never killed by name).
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux x86-64). */
const CLOCK_TICKS = 100;

/** CPU time and memory of one process at one instant. */
export interface ProcSample {
  /** User + system CPU time of all threads, ms (ns resolution via schedstat, else 10 ms ticks). */
  cpuMs: number;
  /** Resident set size, bytes. */
  rssBytes: number;
  /** `performance.now()` when sampled. */
  at: number;
}

/**
 * CPU time of every thread of `pid` in ms, at nanosecond resolution, from
 * `/proc/<pid>/task/<tid>/schedstat` (first field: ns on CPU); null when unavailable. Threads that
 * exited between samples are missed, which is negligible for long-lived servers.
 */
async function schedCpuMs(pid: number | "self"): Promise<number | null> {
  try {
    let ns = 0;
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      try {
        const text = await Deno.readTextFile(
          `/proc/${pid}/task/${task.name}/schedstat`,
        );
        ns += Number(text.split(" ")[0]);
      } catch {
        // The thread exited meanwhile.
      }
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

/** Reads CPU time and RSS of `pid` (default: this process) from `/proc`. */
export async function procSample(
  pid: number | "self" = "self",
): Promise<ProcSample> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name (field 2) may contain spaces: parse after the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime = field 14, stime = field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const precise = await schedCpuMs(pid);
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rss = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return {
    cpuMs: precise ?? (ticks * 1000) / CLOCK_TICKS,
    rssBytes: rss ? Number(rss[1]) * 1024 : NaN,
    at: performance.now(),
  };
}

/** Asks the kernel for a free loopback TCP port (closed again before returning). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running Deno subprocess started by {@linkcode spawnDeno}. */
export interface DenoProcess {
  pid: number;
  /** Everything the process wrote to stderr so far (capped at 64 KiB). */
  stderr: () => string;
  /** True once the process has exited. */
  exited: () => boolean;
  /** The first line the process printed on stdout (only with `readLine: true`). */
  firstLine: Promise<string>;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s) and waits for it. */
  close: () => Promise<void>;
}

/** Options for {@linkcode spawnDeno}. */
export interface SpawnDenoOptions {
  /** Arguments after `deno`, e.g. `["run", "-A", "start.ts"]`. */
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Pipe stdout and resolve `firstLine` with its first line (e.g. a JSON ready message). */
  readLine?: boolean;
}

/** Starts the same Deno binary that runs the benchmark, with stdout discarded and stderr kept. */
export function spawnDeno(options: SpawnDenoOptions): DenoProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: options.args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: options.readLine ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  const firstLine = options.readLine ? readFirstLine(child.stdout) : Promise.resolve("");
  firstLine.catch(() => {});
  let err = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) {
      if (err.length < 65536) err += decoder.decode(chunk, { stream: true });
    }
  })().catch(() => {});
  let closed: Promise<void> | null = null;
  let exited = false;
  child.status.then(() => exited = true, () => exited = true);
  return {
    pid: child.pid,
    exited: () => exited,
    stderr: () => err,
    firstLine,
    close: () => {
      closed ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already exited.
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already exited.
          }
        }, 2000);
        await child.status;
        clearTimeout(timer);
        await reading;
      })();
      return closed;
    },
  };
}

/** Reads the first line of a stream, then keeps draining it so the child never blocks. */
async function readFirstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Process exited before printing a line");
    text += decoder.decode(value, { stream: true });
  }
  (async () => {
    while (!(await reader.read()).done) {
      // Discard later output.
    }
  })().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}

/** Options for {@linkcode waitForStatus}. */
export interface WaitOptions {
  status?: number;
  init?: RequestInit;
  /** Give up after this many ms (default 30 000). */
  timeoutMs?: number;
  /** Pause between attempts, ms (default 2). */
  intervalMs?: number;
  /** Stops waiting early when this returns a reason (e.g. the process exited). */
  abortReason?: () => string | null;
}

/** Polls `url` until it answers `status` (default 200); returns `performance.now()` at that answer. */
export async function waitForStatus(
  url: string,
  options: WaitOptions = {},
): Promise<number> {
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  let last = "no answer";
  while (performance.now() < deadline) {
    const reason = options.abortReason?.();
    if (reason) throw new Error(reason);
    try {
      const res = await fetch(url, options.init);
      await res.body?.cancel();
      if (res.status === (options.status ?? 200)) return performance.now();
      last = `status ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 2));
  }
  throw new Error(
    `${url} did not answer ${options.status ?? 200} in time (last: ${last})`,
  );
}

// make bench: nginx with the module, the incumbent Node.js socket.io server
// and a minimal C floor, side by side in one run on this machine.
//
//   node bench/run.js            (make bench builds what it needs first)
//
// Everything runs on free loopback ports in a temporary directory, with one
// redis-server:
//
//   A. each server as one process (nginx: 1 worker) with BENCH_CLIENTS idle
//      clients in rooms of BENCH_ROOM_SIZE: memory per client, measured as
//      it connects; then, all three connected at once (each with its own
//      Redis key, so the idle ones receive nothing), the fan-out phases
//      (CPU per 100,000 deliveries, latency, loss), each phase run for the
//      three servers back to back, BENCH_ROUNDS times in turning order, so
//      that the load other people put on this machine falls on all three;
//   B. each server as two processes (nginx: 2 workers with reuseport; Node:
//      two servers on the same Redis; floor: two SO_REUSEPORT processes)
//      with BENCH_CLIENTS_MAX clients: memory per client.  Two, because no
//      process here may open more than 20,000 files (hard RLIMIT_NOFILE,
//      and no CAP_SYS_RESOURCE to raise it).
//
// Clients are bench/loadgen (C, epoll); broadcasts are what
// @socket.io/redis-emitter publishes, byte for byte, sent with a raw
// PUBLISH to the shared Redis (the floor gets the same packets on its
// stdin).  Each event carries its publish time in microseconds; loadgen
// turns it into latency.  CPU is utime and stime of every server process
// from /proc/PID/stat; memory is VmRSS.
//
// Environment (defaults for the full run):
//   BENCH_CLIENTS=10000      clients of part A (quick: BENCH_CLIENTS=2000)
//   BENCH_CLIENTS_MAX=3x     clients of part B (0: skip part B)
//   BENCH_ROOM_SIZE=100      clients per room
//   BENCH_RATE=20000         deliveries per second of the steady phases (below
//                            the saturation of Node, the floor and nginx here)
//   BENCH_LAT_RATE=1000      broadcasts per second of the latency phase
//   BENCH_SECONDS=3          length of each latency phase (per round)
//   BENCH_ROUNDS=2           rounds of phases (figures: all rounds summed)
//   BENCH_SERVERS=nginx,node,floor
//   BENCH_PHASES=all,rooms,burst,lat,lat-low
//   BENCH_KEEP=1             keep the temporary directory
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawn, fork, execFileSync } = require("node:child_process");
const { performance } = require("node:perf_hooks");

const ROOT = path.resolve(__dirname, "..");
const BUILD = process.env.BUILD || path.join(ROOT, "build");
const LOADGEN = path.join(BUILD, "loadgen");
const FLOOR = path.join(BUILD, "floor");

const int = (v, d) => (v === undefined || v === "" ? d : Number.parseInt(v, 10));
const env = process.env;

const N = int(env.BENCH_CLIENTS, 10000);
const NMAX = int(env.BENCH_CLIENTS_MAX, 3 * N);
const ROOM = int(env.BENCH_ROOM_SIZE, 100);
const RATE = int(env.BENCH_RATE, 20000);
const LAT_RATE = int(env.BENCH_LAT_RATE, 1000);
const SECONDS = int(env.BENCH_SECONDS, 3);
const ROUNDS = int(env.BENCH_ROUNDS, 2);
const SERVERS = (env.BENCH_SERVERS || "nginx,node,floor").split(",").filter(Boolean);
const NROOMS = Math.max(1, Math.round(N / ROOM));
const PING_INTERVAL = 300000;          // heartbeats out of the CPU figures
const PING_TIMEOUT = 60000;
const PAD = "abcdefghijklmnopqrstuvwxyz012345";
const HZ = 100;                        // USER_HZ of /proc/PID/stat

// the temporary directory, and the module copied into it: a rebuild of
// build/ during the run cannot touch the nginx under test
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), "sio-bench-"));
fs.chmodSync(DIR, 0o755);
const MODULE = path.join(DIR, "ngx_http_socketio_module.so");
fs.copyFileSync(process.env.SOCKETIO_MODULE ||
  path.join(BUILD, "ngx_http_socketio_module.so"), MODULE);
fs.chmodSync(MODULE, 0o755);
process.env.SOCKETIO_MODULE = MODULE;

const H = require("../t/lib/harness.js");
const { sleep, waitFor, freePort, canConnect, stopProcess } = H;

const log = (...a) => console.log("#", ...a);

// ------------------------------------------------------------ processes

// what this run started, stopped on the way out whatever happens
const cleanups = new Set();

function onCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

async function cleanupAll() {
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn();
    } catch {
      // keep going
    }
    cleanups.delete(fn);
  }
}

function children(pid) {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// utime and stime (seconds) summed over pids
function cpu(pids) {
  let u = 0, s = 0;
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      u += Number(f[11]);
      s += Number(f[12]);
    } catch {
      // gone
    }
  }
  return { user: u / HZ, sys: s / HZ };
}

// busy and total jiffies of the whole machine (every process, anyone's)
function machine() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

function rss(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb * 1024;
}

// ------------------------------------------------------------ loadgen

class Loadgen {
  // ports, n clients numbered from base, rooms r<k % rooms>
  static async start({ ports, n, base = 0, rooms, tag }) {
    const lg = new Loadgen();
    lg.n = n;
    // per process at most ~7,500 sockets (limit 20,000), at least two
    // processes (two cores); a source address per process
    const procs = Math.max(2, Math.ceil(n / 7500));
    lg.stats = path.join(DIR, `loadgen-${tag}.stats`);
    lg.out = path.join(DIR, `loadgen-${tag}.json`);
    lg.seq = 0;
    const args = ["-p", ports.join(","), "-n", String(n), "-b", String(base),
      "-P", String(procs), "-s", String(procs), "-r", String(rooms),
      "-O", lg.stats, "-o", lg.out];
    lg.proc = spawn(LOADGEN, args, { stdio: ["ignore", "ignore", "inherit"] });
    lg.proc.on("error", () => {});
    lg.exited = new Promise((r) => lg.proc.once("exit", r));
    lg.forget = onCleanup(() => lg.stop());
    await waitFor(() => children(lg.proc.pid).length === procs, { what: "loadgen processes" });
    lg.pidList = [lg.proc.pid, ...children(lg.proc.pid)];
    return lg;
  }

  pids() {
    return this.pidList;
  }

  read() {
    try {
      return JSON.parse(fs.readFileSync(this.stats, "utf8"));
    } catch {
      return null;
    }
  }

  // counters and histogram, now
  async snapshot() {
    const want = this.seq + 1;
    for (let tries = 0; ; tries++) {
      process.kill(this.proc.pid, "SIGUSR2");
      const end = Date.now() + 1000;
      while (Date.now() < end) {
        const s = this.read();
        if (s && s.seq >= want) {
          this.seq = s.seq;
          return s;
        }
        await sleep(5);
      }
      if (tries === 10) throw new Error("loadgen does not answer");
    }
  }

  // until every client connected, failed or closed; or no progress for 30 s
  async connected() {
    let last = -1, since = Date.now();
    for (;;) {
      const s = await this.snapshot();
      const done = s.connected + s.failed + s.closed;
      if (done >= this.n) return s;
      if (done !== last) {
        last = done;
        since = Date.now();
      } else if (Date.now() - since > 30000) {
        return s;
      }
      await sleep(250);
    }
  }

  async stop() {
    this.forget();
    await stopProcess(this.proc, "SIGTERM", 20000);
  }
}

// ------------------------------------------------------------ servers

let redis, publisher;

// What @socket.io/redis-emitter publishes for emitter[.to(room)].emit("t",
// ts, PAD): the real emitter encodes it, into a fake client.
const tRequire = require("node:module").createRequire(path.join(ROOT, "t", "package.json"));

function emitterMessage(key, room, ts) {
  const { Emitter } = tRequire("@socket.io/redis-emitter");
  let out;
  const e = new Emitter({ publish: (channel, msg) => { out = { channel, msg }; } }, { key });
  (room === null ? e : e.to(room)).emit("t", ts, PAD);
  return out;
}

// The emitter's bytes, published over a raw RESP connection: encoded once
// per room by the emitter itself, then only the 8 bytes of the timestamp
// (msgpack uint64) change.  The emitter and node-redis cost ~0.5 ms of CPU
// per publish on this machine, which would load the 2 cores the servers
// and loadgen share; this costs a copy and a write.
class Publisher {
  static async start(port) {
    const p = new Publisher();
    p.templates = new Map();
    p.replies = 0;
    p.errors = 0;
    p.sock = require("node:net").connect({ port, host: "127.0.0.1" });
    p.sock.setNoDelay(true);
    p.sock.on("data", (d) => {
      for (const c of d) {
        if (c === 0x3a) p.replies++;        // ":<subscribers>"
        else if (c === 0x2d) p.errors++;    // "-ERR"
      }
    });
    p.sock.on("error", () => {});
    await new Promise((resolve, reject) => {
      p.sock.once("connect", resolve);
      p.sock.once("error", reject);
    });
    // the template is the emitter's message, byte for byte
    for (const room of [null, "r0"]) {
      for (const ts of [1, 2 ** 32 + 5, Date.now() * 1000, 2 ** 52 + 3]) {
        const want = emitterMessage("k", room, ts);
        const got = p.message("k", room, ts);
        const resp = Buffer.concat([Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(want.channel)}\r\n${want.channel}\r\n$${want.msg.length}\r\n`),
          want.msg, Buffer.from("\r\n")]);
        if (ts > 2 ** 32 && !resp.equals(got)) {
          throw new Error(`raw publish differs from the emitter's for ${room} ${ts}`);
        }
      }
    }
    return p;
  }

  template(key, room) {
    let t = this.templates.get(`${key}\0${room}`);
    if (t) return t;
    const S = 0x0012345678abcdef;           // a uint64 that cannot occur by chance
    const { channel, msg } = emitterMessage(key, room, S);
    const head = Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$${msg.length}\r\n`);
    const buf = Buffer.concat([head, msg, Buffer.from("\r\n")]);
    const needle = Buffer.alloc(9);
    needle[0] = 0xcf;
    needle.writeBigUInt64BE(BigInt(S), 1);
    const off = buf.indexOf(needle);
    if (off < 0 || buf.indexOf(needle, off + 1) >= 0) throw new Error("no timestamp in the template");
    t = { buf, off: off + 1 };
    this.templates.set(`${key}\0${room}`, t);
    return t;
  }

  message(key, room, ts) {
    const t = this.template(key, room);
    const b = Buffer.from(t.buf);
    b.writeBigUInt64BE(BigInt(ts), t.off);
    return b;
  }

  publish(key, room, ts) {
    this.sock.write(this.message(key, room, ts));
  }

  close() {
    this.sock.destroy();
  }
}

// Each server under test has its own Redis key (channel prefix), so that
// the others, idle with their clients connected, receive nothing.
const SERVER = {
  async nginx(procs, key) {
    const port = await freePort();
    const ngx = await H.Nginx.start({
      dir: fs.mkdtempSync(path.join(DIR, "nginx-")),
      port,
      workers: procs,
      nofile: 20000,
      connections: 19500,
      logLevel: "notice",
      conf: `
    socketio_redis ${redis.url};
    socketio_key ${key};
    server {
        listen 127.0.0.1:${port}${procs > 1 ? " reuseport" : ""} backlog=4096;
        access_log off;
        location /socket.io/ {
            socketio;
            socketio_join $arg_room;
            socketio_ping_interval ${PING_INTERVAL / 1000}s;
            socketio_ping_timeout ${PING_TIMEOUT / 1000}s;
        }
    }`,
    });
    const forget = onCleanup(() => ngx.stop());
    // every worker is subscribed before anything is published
    await redis.waitNumsub(`${key}-request#/#`, procs);
    return {
      ports: [port],
      pids: () => [ngx.proc.pid, ...ngx.workerPids()],
      publish: (room, ts) => publisher.publish(key, room, ts),
      errorLog: () => ngx.errorLog(),
      async stop() {
        forget();
        await ngx.stop();
      },
    };
  },

  async node(procs, key) {
    const list = [];
    const stopAll = async () => {
      await Promise.all(list.map((c) => stopProcess(c.child, "SIGTERM", 10000)));
    };
    const forget = onCleanup(stopAll);
    for (let i = 0; i < procs; i++) {
      const port = await freePort();
      const child = fork(path.join(__dirname, "node-server.js"),
        [String(port), redis.url, key, String(PING_INTERVAL), String(PING_TIMEOUT)],
        { execArgv: ["--expose-gc"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
      list.push({ child, port });
      await new Promise((resolve, reject) => {
        child.once("message", resolve);
        child.once("exit", (c) => reject(new Error(`node server exited: ${c}`)));
      });
    }
    await redis.waitNumsub(`${key}-request#/#`, procs);
    return {
      ports: list.map((c) => c.port),
      pids: () => list.map((c) => c.child.pid),
      publish: (room, ts) => publisher.publish(key, room, ts),
      async gc() {
        await Promise.all(list.map(({ child }) => new Promise((resolve) => {
          const on = (m) => {
            if (m === "gc-done") {
              child.off("message", on);
              resolve();
            }
          };
          child.on("message", on);
          child.send("gc");
        })));
      },
      async stop() {
        forget();
        await stopAll();
      },
    };
  },

  async floor(procs) {
    const port = await freePort();
    const child = spawn(FLOOR, ["-p", String(port), "-w", String(procs)],
      { stdio: ["pipe", "ignore", "inherit"] });
    child.on("error", () => {});
    child.stdin.on("error", () => {});
    const forget = onCleanup(() => stopProcess(child, "SIGTERM", 10000));
    await waitFor(() => canConnect(port), { what: "floor" });
    if (procs > 1) {
      await waitFor(() => children(child.pid).length === procs, { what: "floor processes" });
    }
    const pidList = [child.pid, ...(procs > 1 ? children(child.pid) : [])];
    return {
      ports: [port],
      pids: () => pidList,
      publish(room, ts) {
        child.stdin.write(`${room === null ? "*" : room} 42["t",${ts},"${PAD}"]\n`);
      },
      async stop() {
        forget();
        child.stdin.end();
        await stopProcess(child, "SIGTERM", 10000);
      },
    };
  },
};

// ------------------------------------------------------------ clock

// microseconds of CLOCK_REALTIME, as loadgen reads it: performance.now()
// pinned to the moment Date.now() steps to a new millisecond
let offsetUs = 0;

function calibrate() {
  const d0 = Date.now();
  let d;
  do {
    d = Date.now();
  } while (d === d0);
  offsetUs = d * 1000 - performance.now() * 1000;
}

const nowUs = () => Math.round(performance.now() * 1000 + offsetUs);

// ------------------------------------------------------------ phases

// members of room j: clients k in [0, n) with k % rooms == j
const roomSize = (j, n, rooms) => (j < n ? Math.floor((n - 1 - j) / rooms) + 1 : 0);

const D = 20 * N;                       // deliveries per steady phase and round

const ALL_PHASES = [
  {
    name: "all", what: `broadcast to all ${N}, ${RATE / N}/s (${RATE / 1000}k deliveries/s)`,
    kind: "steady", rooms: false, count: Math.max(1, Math.round(D / N)), rate: RATE / N,
  },
  {
    name: "rooms", what: `to rooms of ${ROOM}, ${RATE / ROOM}/s (${RATE / 1000}k deliveries/s)`,
    kind: "steady", rooms: true, count: Math.round(D / ROOM), rate: RATE / ROOM,
  },
  {
    name: "burst", what: `to all, bursts of 5 back to back (${5 * N / 1000}k deliveries), 2 s apart`,
    kind: "burst", rooms: false, bursts: 4, per: 5, gap: 2000,
  },
  {
    name: "lat", what: `to rooms of ${ROOM}, ${LAT_RATE}/s (${LAT_RATE * ROOM / 1000}k deliveries/s)`,
    kind: "steady", rooms: true, count: LAT_RATE * SECONDS, rate: LAT_RATE,
  },
  {
    name: "lat-low", what: `to rooms of ${ROOM}, 100/s (${100 * ROOM / 1000}k deliveries/s)`,
    kind: "steady", rooms: true, count: 100 * SECONDS, rate: 100,
  },
];

const PHASES = env.BENCH_PHASES === undefined ? ALL_PHASES
  : ALL_PHASES.filter((p) => env.BENCH_PHASES.split(",").includes(p.name));

// publishes count events at rate per second; returns the deliveries expected
async function publishSteady(ph, target) {
  const t0 = performance.now();
  let i = 0, expected = 0;
  while (i < ph.count) {
    const due = Math.min(ph.count, Math.floor((performance.now() - t0) * ph.rate / 1000) + 1);
    while (i < due) expected += target(i++);
    if (i < ph.count) {
      const wait = (i * 1000) / ph.rate - (performance.now() - t0);
      await sleep(Math.max(1, wait));
    }
  }
  return expected;
}

async function publishBurst(ph, target) {
  let expected = 0, i = 0;
  for (let b = 0; b < ph.bursts; b++) {
    for (let k = 0; k < ph.per; k++) expected += target(i++);
    if (b < ph.bursts - 1) await sleep(ph.gap);
  }
  return expected;
}

// the histogram of what arrived between two snapshots: [[us, count], ...]
function histDelta(h0, h1) {
  const before = new Map((h0 || []).map(([v, c]) => [v, c]));
  const out = [];
  for (const [v, c] of h1) {
    const d = c - (before.get(v) || 0);
    if (d > 0) out.push([v, d]);
  }
  return out;
}

function percentiles(hist) {
  const h = [...hist].sort((a, b) => a[0] - b[0]);
  const total = h.reduce((a, [, c]) => a + c, 0);
  const at = (q) => {
    if (!total) return null;
    const want = Math.min(total - 1, Math.floor(q * total));
    let seen = 0;
    for (const [v, c] of h) {
      seen += c;
      if (seen > want) return v;
    }
    return null;
  };
  return { samples: total, p50: at(0.5), p99: at(0.99), max: at(1) };
}

const ms = (us) => (us === null || us === undefined ? "-" : (us / 1000).toFixed(2));
const pct = (x, secs) => Math.max(0, (x / secs) * 100).toFixed(0);

async function runPhase(name, srv, lg, ph, n) {
  const target = (i) => {
    if (!ph.rooms) {
      srv.publish(null, nowUs());
      return n;
    }
    const j = i % NROOMS;
    srv.publish(`r${j}`, nowUs());
    return roomSize(j, n, NROOMS);
  };

  calibrate();
  await sleep(300);
  const s0 = await lg.snapshot();
  const c0 = cpu(srv.pids()), l0 = cpu(lg.pids()), r0 = cpu([redis.proc.pid]);
  const m0 = machine(), self0 = process.cpuUsage();
  const t0 = performance.now();

  const expected = ph.kind === "burst" ? await publishBurst(ph, target)
    : await publishSteady(ph, target);
  const tp = performance.now();

  // until every delivery arrived, or nothing more arrives for 3 s
  let s1, last = -1, since = Date.now();
  for (;;) {
    s1 = await lg.snapshot();
    const got = s1.events - s0.events;
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      since = Date.now();
    } else if (Date.now() - since > 3000) {
      break;
    }
    await sleep(50);
  }
  const t1 = performance.now();
  const c1 = cpu(srv.pids()), l1 = cpu(lg.pids()), r1 = cpu([redis.proc.pid]);
  const m1 = machine(), self1 = process.cpuUsage(self0);

  const r = {
    expected,
    delivered: s1.events - s0.events,
    closed: s1.closed - s0.closed,
    publishSecs: (tp - t0) / 1000,
    secs: (t1 - t0) / 1000,
    user: c1.user - c0.user,
    sys: c1.sys - c0.sys,
    loadgen: l1.user + l1.sys - l0.user - l0.sys,
    loadgenUser: l1.user - l0.user,
    redis: r1.user + r1.sys - r0.user - r0.sys,
    publisher: (self1.user + self1.system) / 1e6,
    busyJiffies: m1.busy - m0.busy,
    totalJiffies: m1.total - m0.total,
    hist: histDelta(s0.hist, s1.hist),
  };
  logPhase(`${name.padEnd(5)} ${ph.name.padEnd(7)}`, r);
  return r;
}

function logPhase(label, r) {
  const per = r.delivered ? 1e5 / r.delivered : 0;
  const lat = percentiles(r.hist);
  log(`  ${label} ${r.delivered}/${r.expected} delivered in ${r.secs.toFixed(1)} s` +
    ` (published in ${r.publishSecs.toFixed(1)} s); per 100k: user ${(r.user * per).toFixed(3)} s,` +
    ` sys ${(r.sys * per).toFixed(3)} s; p50 ${ms(lat.p50)} p99 ${ms(lat.p99)} max ${ms(lat.max)} ms;` +
    `${r.closed ? ` ${r.closed} clients closed;` : ""} loadgen ${pct(r.loadgen, r.secs)}%` +
    ` (user ${pct(r.loadgenUser, r.secs)}%),` +
    ` redis ${pct(r.redis, r.secs)}%, publisher ${pct(r.publisher, r.secs)}% of a core;` +
    ` machine ${(100 * r.busyJiffies / Math.max(1, r.totalJiffies)).toFixed(0)}% busy`);
}

// the rounds of one phase, summed
function sumRounds(list) {
  const t = { hist: [] };
  for (const r of list) {
    for (const k of ["expected", "delivered", "closed", "publishSecs", "secs", "user", "sys",
      "loadgen", "loadgenUser", "redis", "publisher", "busyJiffies", "totalJiffies"]) {
      t[k] = (t[k] || 0) + r[k];
    }
    t.hist.push(...r.hist);
  }
  t.lat = percentiles(t.hist);
  t.busy = t.busyJiffies / Math.max(1, t.totalJiffies);
  return t;
}

// RSS of the server after the dust settles (Node: after full GCs)
async function settledRss(srv) {
  await sleep(1000);
  if (srv.gc) {
    await srv.gc();
    await sleep(1000);
    await srv.gc();
    await sleep(1000);
  }
  return rss(srv.pids());
}

async function connectAndMeasure(name, procs, n, rooms, tag) {
  log(`${name}: ${procs} process${procs > 1 ? "es" : ""}, ${n} clients in ${rooms} rooms`);
  const srv = await SERVER[name](procs, `bench-${name}`);
  let lg;
  try {
    const base = await settledRss(srv);
    lg = await Loadgen.start({ ports: srv.ports, n, rooms, tag });
    const t0 = performance.now();
    const s = await lg.connected();
    const connectSecs = (performance.now() - t0) / 1000;
    const after = await settledRss(srv);
    const mem = {
      clients: n, connected: s.connected, failed: s.failed, closed: s.closed,
      connectSecs, base, after, perClient: s.connected ? (after - base) / s.connected : null,
    };
    log(`  ${s.connected}/${n} connected in ${connectSecs.toFixed(1)} s` +
      (s.failed || s.closed ? ` (${s.failed} failed, ${s.closed} closed)` : "") +
      `; RSS ${(base / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MB:` +
      ` ${mem.perClient === null ? "-" : Math.round(mem.perClient)} bytes per client`);
    return { srv, lg, mem };
  } catch (e) {
    if (lg) await lg.stop();
    await srv.stop();
    throw e;
  }
}

async function stopPair(p) {
  if (p.lg) await p.lg.stop();
  if (p.srv.errorLog) {
    p.errors = p.srv.errorLog().split("\n")
      .filter((l) => /\[(alert|crit|emerg|error)\]/.test(l)).slice(0, 5);
  }
  await p.srv.stop();
}

async function bench() {
  const results = Object.fromEntries(SERVERS.map((s) => [s, { phases: {}, rounds: {} }]));

  // A: one process each, all connected at once (each has its own Redis
  // key, so the idle ones see none of the others' broadcasts)
  const up = {};
  try {
    for (const s of SERVERS) {
      up[s] = await connectAndMeasure(s, 1, N, NROOMS, `${s}-a`);
      results[s].memA = up[s].mem;
    }

    // the phases, round after round; within a round each phase runs for
    // every server back to back, the order turning from round to round
    for (let round = 0; round < ROUNDS && PHASES.length; round++) {
      log(`round ${round + 1} of ${ROUNDS}`);
      for (const [i, ph] of PHASES.entries()) {
        const order = SERVERS.map((_, k) => SERVERS[(k + round + i) % SERVERS.length]);
        for (const s of order) {
          if (up[s].mem.connected < N) continue;
          const r = await runPhase(s, up[s].srv, up[s].lg, ph, N);
          (results[s].rounds[ph.name] ||= []).push(r);
        }
      }
    }
  } finally {
    for (const s of Object.keys(up)) {
      await stopPair(up[s]);
      results[s].errors = up[s].errors;
    }
  }

  for (const s of SERVERS) {
    for (const [name, list] of Object.entries(results[s].rounds)) {
      results[s].phases[name] = sumRounds(list);
    }
  }

  // B: two processes each, more clients than one process may hold
  if (NMAX > 0) {
    for (const s of SERVERS) {
      const p = await connectAndMeasure(s, 2, NMAX, Math.max(1, Math.round(NMAX / ROOM)), `${s}-b`);
      await stopPair(p);
      results[s].memB = p.mem;
    }
  }

  return results;
}

// ------------------------------------------------------------ report

function fmtBytes(b) {
  if (b === null || b === undefined) return "-";
  return b >= 10240 ? `${(b / 1024).toFixed(1)} KB` : `${Math.round(b)} B`;
}

const fmt3 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(3));
const ratio = (a, b) => (a === null || b === null || a === undefined || b === undefined || !b
  ? "-" : (a / b).toFixed(2));

function report(results) {
  const rows = [];
  const row = (metric, f, show, cmpFloor, cmpNode = true) => {
    const v = Object.fromEntries(["nginx", "node", "floor"].map((s) => {
      try {
        const x = results[s] ? f(results[s]) : null;
        return [s, x === undefined ? null : x];
      } catch {
        return [s, null];
      }
    }));
    rows.push([metric, show(v.nginx), show(v.node), show(v.floor),
      cmpNode ? ratio(v.nginx, v.node) : "", cmpFloor ? ratio(v.nginx, v.floor) : ""]);
  };
  const sep = () => rows.push(null);
  const int0 = (x) => (x === null ? "-" : x.toFixed(0));

  row(`memory: RSS per idle client, ${N} clients, 1 process`, (r) => r.memA.perClient, fmtBytes, true);
  if (NMAX > 0) {
    row(`memory: RSS per idle client, ${NMAX} clients, 2 processes`, (r) => r.memB.perClient, fmtBytes, true);
  }
  sep();

  for (const ph of PHASES) {
    const p = (r) => r.phases[ph.name];
    const per = (r, x) => (p(r).delivered ? x * 1e5 / p(r).delivered : null);
    rows.push([`${ph.name}: ${ph.what}`, "", "", "", "", ""]);
    row("  user CPU s per 100k deliveries", (r) => per(r, p(r).user), fmt3, true);
    row("  kernel CPU s per 100k deliveries", (r) => per(r, p(r).sys), fmt3, true);
    row("  total CPU s per 100k deliveries", (r) => per(r, p(r).user + p(r).sys), fmt3, true);
    row("  latency p50 ms", (r) => p(r).lat.p50, (x) => (x === null ? "-" : ms(x)), true);
    row("  latency p99 ms", (r) => p(r).lat.p99, (x) => (x === null ? "-" : ms(x)), true);
    const loss = {};
    for (const s of ["nginx", "node", "floor"]) {
      const x = results[s] && results[s].phases[ph.name];
      loss[s] = x ? `${x.delivered}/${x.expected}` : "-";
    }
    rows.push(["  delivered/expected", loss.nginx, loss.node, loss.floor, "", ""]);
    row("  server CPU, % of one core", (r) => ((p(r).user + p(r).sys) / p(r).secs) * 100, int0, false, false);
    row("  loadgen CPU, % of one core", (r) => (p(r).loadgen / p(r).secs) * 100, int0, false, false);
    row(`  whole machine busy % (${os.cpus().length} cores, anyone's processes)`,
      (r) => p(r).busy * 100, int0, false, false);
    sep();
  }

  const head = ["metric", "nginx", "node", "floor", "nginx/node", "nginx/floor"];
  const all = [head, ...rows.filter(Boolean)];
  const w = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i])))
    .join("  ").trimEnd();
  const out = [line(head), w.map((x) => "-".repeat(x)).join("  ")];
  for (const r of rows) out.push(r ? line(r) : "");
  console.log(out.join("\n"));

  // the targets of issue 4, checked against this run
  const g = (s, f) => {
    try {
      const x = f(results[s]);
      return x === undefined || Number.isNaN(x) ? null : x;
    } catch {
      return null;
    }
  };
  const ph = (s, name) => g(s, (r) => r.phases[name]);
  const perD = (x, k) => (x && x.delivered ? (k === "total" ? x.user + x.sys : x[k]) / x.delivered : null);
  const check = (ok) => (ok === null ? "n/a " : ok ? "met " : "MISS");
  const t = [];
  const memA = g("nginx", (r) => r.memA.perClient), memB = g("nginx", (r) => r.memB.perClient);
  const worst = Math.max(memA ?? 0, memB ?? 0);
  t.push([check(memA === null ? null : worst <= 3072),
    `memory <= 3 KB per idle client (stretch 1.5 KB${worst && worst <= 1536 ? ": met" : ""}): ${fmtBytes(memA)}` +
    (memB !== null ? ` / ${fmtBytes(memB)}` : "")]);
  for (const name of ["all", "rooms"]) {
    const n = ph("nginx", name), o = ph("node", name), f = ph("floor", name);
    if (!n) continue;
    const uo = perD(o, "user"), un = perD(n, "user");
    t.push([check(uo === null ? null : un * 10 <= uo),
      `${name}: user CPU per delivery 10x below Node: ${uo === null ? "-" : (uo / un).toFixed(1)}x`]);
    const tf = perD(f, "total"), tn = perD(n, "total");
    t.push([check(tf === null ? null : tn <= 1.25 * tf),
      `${name}: total CPU per delivery within 1.25x of the floor: ${tf === null ? "-" : (tn / tf).toFixed(2)}x`]);
  }
  {
    const n = ph("nginx", "burst"), f = ph("floor", "burst");
    if (n) {
      const tf = perD(f, "total"), tn = perD(n, "total");
      t.push([check(tf === null ? null : tn < tf),
        `burst: total CPU per delivery below the floor's: ${tf === null ? "-" : (tn / tf).toFixed(2)}x`]);
    }
  }
  {
    const n = ph("nginx", "lat"), f = ph("floor", "lat");
    if (n) {
      const pn = n.lat.p99, pf = f ? f.lat.p99 : null;
      t.push([check(pf === null ? null : pn <= 1.25 * pf),
        `lat: p99 within 1.25x of the floor's p99: ${ms(pn)} vs ${ms(pf)} ms`]);
      t.push([check(pn < 10000), `lat: p99 under 10 ms at ${N} clients, ${LAT_RATE}/s to rooms of ${ROOM}: ${ms(pn)} ms`]);
      if (f && (f.busy > 0.85 || (f.user + f.sys) / f.secs > 0.8)) {
        t.push(["    ", `(not below saturation here: during it the floor itself used ` +
          `${pct(f.user + f.sys, f.secs)}% of a core, loadgen ${pct(f.loadgen, f.secs)}%, ` +
          `and the machine was ${(f.busy * 100).toFixed(0)}% busy)`]);
      }
    }
  }
  {
    let lost = 0, any = false;
    for (const x of Object.values(g("nginx", (r) => r.phases) || {})) {
      any = true;
      lost += x.expected - x.delivered;
    }
    if (any) t.push([check(lost === 0), `zero loss (nginx, every phase): ${lost} lost`]);
  }
  console.log("targets of issue 4, for nginx:");
  for (const [c, text] of t) console.log(`  ${c}  ${text}`);
  console.log("");

  const memNote = (m) => (m && m.connected < m.clients
    ? ` (only ${m.connected} connected, ${m.failed} failed, ${m.closed} closed)` : "");
  for (const s of SERVERS) {
    const r = results[s];
    if (r.memA) {
      console.log(`${s}: ${N} clients connected in ${r.memA.connectSecs.toFixed(1)} s` +
        memNote(r.memA) + (r.memB ? `; ${NMAX} in ${r.memB.connectSecs.toFixed(1)} s${memNote(r.memB)}` : ""));
    }
    if (r.errors && r.errors.length) console.log(`${s} error.log:\n  ${r.errors.join("\n  ")}`);
  }
}

// ------------------------------------------------------------ main

async function main() {
  const ver = (p) => {
    try {
      return require(path.join(ROOT, "t", "node_modules", p, "package.json")).version;
    } catch {
      return "?";
    }
  };
  console.log(`bench: ${os.cpus().length} CPUs (${os.cpus()[0].model}), ${os.release()},` +
    ` node ${process.version}, socket.io ${ver("socket.io")},` +
    ` @socket.io/redis-adapter ${ver("@socket.io/redis-adapter")}, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`clients ${N} (part B: ${NMAX}), rooms of ${ROOM}, payload 42["t",<time>,"${PAD}"],` +
    ` heartbeat ${PING_INTERVAL / 1000}s (out of the CPU figures), temp ${DIR}`);

  redis = await H.Redis.start({ dir: fs.mkdtempSync(path.join(DIR, "redis-")) });
  onCleanup(() => redis.stop("SIGTERM"));
  publisher = await Publisher.start(redis.port);
  onCleanup(() => publisher.close());

  for (const s of SERVERS) {
    if (!SERVER[s]) throw new Error(`unknown server ${s}`);
  }
  const results = await bench();
  console.log("");
  report(results);
}

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping what the bench started`);
    await cleanupAll();
    process.exit(130);
  });
}

main().then(async () => {
  await cleanupAll();
  if (!env.BENCH_KEEP) fs.rmSync(DIR, { recursive: true, force: true });
}, async (e) => {
  console.error(e);
  await cleanupAll();
  process.exit(1);
});

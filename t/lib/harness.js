// Test peers, all real: redis-server, the stock nginx binary with the
// module, Node.js socket.io servers with @socket.io/redis-adapter,
// socket.io-client.  Every test picks free loopback ports and its own
// temporary directory, and stops only the processes it started.
"use strict";

const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const MODULE = process.env.SOCKETIO_MODULE ||
  path.join(ROOT, "build", "ngx_http_socketio_module.so");
const NGINX = process.env.NGINX || "/usr/sbin/nginx";
const REDIS_SERVER = process.env.REDIS_SERVER || "redis-server";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// nginx workers run as an unprivileged user: they must reach the files
function tmpdir(prefix = "sio-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

// A free port: bound, read back, released.  The kernel does not hand the
// same ephemeral port out again at once.
function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.on("connect", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  });
}

// Polls fn until it returns a truthy value; fails after "timeout" ms.
async function waitFor(fn, { timeout = 10000, interval = 25, what = "condition" } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}` +
        (last instanceof Error ? `: ${last.message}` : ""));
    }
    await sleep(interval);
  }
}

function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function stopProcess(child, signal = "SIGTERM", timeout = 10000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  const t = setTimeout(() => child.kill("SIGKILL"), timeout);
  await exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------- redis

class Redis {
  static async start(opts = {}) {
    const r = new Redis();
    r.dir = opts.dir || tmpdir("sio-redis-");
    r.port = opts.port || await freePort();
    r.password = opts.password;
    r.unixsocket = opts.unixsocket;
    await r.launch();
    return r;
  }

  get url() {
    return `redis://${this.password ? `:${this.password}@` : ""}127.0.0.1:${this.port}`;
  }

  async launch() {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1",
      "--save", "", "--appendonly", "no", "--dir", this.dir,
      "--logfile", path.join(this.dir, "redis.log")];
    if (this.password) args.push("--requirepass", this.password);
    if (this.unixsocket) args.push("--unixsocket", this.unixsocket, "--unixsocketperm", "777");
    this.proc = spawn(REDIS_SERVER, args, { stdio: "ignore" });
    this.proc.on("error", () => {});
    await waitFor(() => canConnect(this.port), { what: `redis on ${this.port}` });
  }

  // SIGKILL by default: a crash; SIGTERM: a clean shutdown
  async stop(signal = "SIGKILL") {
    await stopProcess(this.proc, signal);
    this.proc = null;
  }

  async restart(signal) {
    await this.stop(signal);
    await this.launch();
  }

  // one command through a throwaway client; replies as strings/arrays
  async command(...args) {
    const { createClient } = require("redis");
    const c = createClient({ url: this.url });
    c.on("error", () => {});
    await c.connect();
    try {
      return await c.sendCommand(args.map(String));
    } finally {
      await closeRedisClient(c);
    }
  }

  async numsub(channel) {
    const r = await this.command("PUBSUB", "NUMSUB", channel);
    return Number(r[1]);
  }

  async waitNumsub(channel, n, what) {
    await waitFor(async () => (await this.numsub(channel)) === n,
      { what: what || `${n} subscribers of ${channel}` });
  }
}

// ---------------------------------------------------------------- nginx

class Nginx {
  // opts: workers, http (text in http{}), server, location (in the
  // socket.io location), locations (more location blocks), redis (url),
  // conf (a whole http{} body instead of the template)
  static async start(opts = {}) {
    const n = new Nginx();
    n.dir = opts.dir || tmpdir("sio-nginx-");
    n.port = opts.port || await freePort();
    n.opts = opts;
    n.writeConf(opts);
    await n.launch();
    return n;
  }

  confText(opts) {
    const workers = opts.workers || 2;
    const redis = opts.redis ? `socketio_redis ${opts.redis};` : "";
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
      .map((t) => `${t}_temp_path ${this.dir}/${t};`).join("\n    ");
    const http = opts.conf || `
    ${redis}
    ${opts.http || ""}
    server {
        listen 127.0.0.1:${this.port};
        ${opts.server || ""}
        location /socket.io/ {
            socketio;
            ${opts.location || ""}
        }
        ${opts.locations || ""}
    }`;
    return `
load_module ${MODULE};
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/error.log ${opts.logLevel || "info"};
worker_processes ${workers};
worker_rlimit_nofile ${opts.nofile || 4096};
${opts.main || ""}
events { worker_connections ${opts.connections || 2048}; }
http {
    access_log ${this.dir}/access.log;
    ${temp}
    ${http}
}
`;
  }

  writeConf(opts) {
    this.confFile = path.join(this.dir, "nginx.conf");
    fs.writeFileSync(this.confFile, this.confText(opts));
  }

  async launch() {
    const out = [];
    this.proc = spawn(NGINX, ["-p", this.dir, "-c", this.confFile, "-g", "daemon off;"],
      { stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d) => out.push(d));
    this.proc.stderr.on("data", (d) => out.push(d));
    const exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    const ready = waitFor(() => canConnect(this.port), { what: `nginx on ${this.port}` });
    const first = await Promise.race([ready.then(() => "ready"), exited.then((c) => `exit ${c}`)]);
    if (first !== "ready") {
      throw new Error(`nginx did not start (${first}): ${Buffer.concat(out)}\n${this.errorLog()}`);
    }
    const workers = this.opts.workers || 2;
    await waitFor(() => this.workerPids().length === workers, { what: "nginx workers" });
  }

  errorLog() {
    try {
      return fs.readFileSync(path.join(this.dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  }

  accessLog() {
    try {
      return fs.readFileSync(path.join(this.dir, "access.log"), "utf8");
    } catch {
      return "";
    }
  }

  // the worker processes of this master only
  workerPids() {
    if (!this.proc) return [];
    try {
      const out = execFileSync("pgrep", ["-P", String(this.proc.pid)], { encoding: "utf8" });
      return out.split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  // nothing a crash, a leak check or an alert would leave
  assertCleanLog() {
    const bad = this.errorLog().split("\n").filter((l) =>
      /\[(alert|crit|emerg)\]|exited on signal|segfault|open socket .* left|AddressSanitizer/.test(l));
    if (bad.length) throw new Error("error.log:\n" + bad.join("\n"));
  }

  async reload(opts) {
    if (opts) {
      this.opts = { ...this.opts, ...opts };
      this.writeConf(this.opts);
    }
    process.kill(this.proc.pid, "SIGHUP");
  }

  async stop() {
    if (!this.proc) return;
    await stopProcess(this.proc, "SIGQUIT", 15000);
    this.proc = null;
  }
}

// ------------------------------------------------------- node socket.io

// Closes a node-redis client: gracefully (pending replies are waited for,
// so nobody's promise is left to reject), or at once if Redis is gone.
async function closeRedisClient(c) {
  const closed = c.close().then(() => true, () => true);
  const done = await Promise.race([closed, sleep(2000).then(() => false)]);
  if (!done) {
    try {
      c.destroy();
    } catch {
      // already closed
    }
  }
}

// A Node.js app server in the cluster: socket.io with the classic Redis
// adapter, WebSocket only, as the nginx node's peers are.
async function startNodeServer(opts = {}) {
  const { Server } = require("socket.io");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const { createClient } = require("redis");

  const pub = createClient({ url: opts.redis });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);

  const io = new Server({ transports: ["websocket"], ...(opts.server || {}) });
  io.adapter(createAdapter(pub, sub, opts.adapter || {}));
  for (const ns of opts.namespaces || ["/"]) io.of(ns);

  const port = await freePort();
  io.listen(port);

  return {
    io, port, pub, sub,
    async close() {
      io.close();
      await Promise.all([closeRedisClient(pub), closeRedisClient(sub)]);
    },
  };
}

async function startEmitter(redisUrl, opts = {}) {
  const { Emitter } = require("@socket.io/redis-emitter");
  const { createClient } = require("redis");
  const c = createClient({ url: redisUrl });
  c.on("error", () => {});
  await c.connect();
  const e = new Emitter(c, opts);
  e.close = () => closeRedisClient(c);
  return e;
}

// Stops what a test started, in the order given (falsy entries skipped):
// nginx is stopped and its log checked, Redis stopped, anything else
// closed.  Everything is stopped even when a log check fails; the first
// failure is thrown at the end.
async function shutdown(...peers) {
  let failure;
  for (const p of peers) {
    if (!p) continue;
    try {
      if (p instanceof Nginx) {
        await p.stop();
        p.assertCleanLog();
      } else if (p instanceof Redis) {
        await p.stop();
      } else {
        await p.close();
      }
    } catch (e) {
      failure = failure || e;
    }
  }
  if (failure) throw failure;
}

// ---------------------------------------------------------------- clients

function client(port, nsp = "/", opts = {}) {
  const { io } = require("socket.io-client");
  return io(`http://127.0.0.1:${port}${nsp}`, {
    transports: ["websocket"], forceNew: true, reconnection: false, ...opts,
  });
}

function connected(socket, timeout = 10000) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("connect timed out")), timeout);
    socket.once("connect", () => { clearTimeout(t); resolve(socket); });
    socket.once("connect_error", (e) => { clearTimeout(t); reject(e); });
  });
}

async function connectAll(sockets) {
  await Promise.all(sockets.map((s) => connected(s)));
  return sockets;
}

// every event a socket receives, in order
function recorder(socket) {
  const events = [];
  socket.onAny((...args) => events.push(args));
  return events;
}

function nextEvent(socket, name, timeout = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${name}" event`)), timeout);
    socket.once(name, (...args) => { clearTimeout(t); resolve(args); });
  });
}

function closeAll(...sockets) {
  for (const s of sockets.flat()) {
    if (s) s.close();
  }
}

module.exports = {
  shutdown,
  ROOT, MODULE, NGINX,
  sleep, tmpdir, freePort, canConnect, waitFor, processGone, stopProcess,
  closeRedisClient,
  Redis, Nginx, startNodeServer, startEmitter,
  client, connected, connectAll, recorder, nextEvent, closeAll,
};

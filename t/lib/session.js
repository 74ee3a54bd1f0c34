// Helpers for protocol tests over RawWs (Engine.IO sessions, Socket.IO
// namespaces, the ways a connection ends), and a test stack: Redis, nginx
// (one worker) and a healthy socket.io-client that must keep working
// while other connections misbehave.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

// The module under test is a snapshot taken now: `make` may rebuild
// build/ngx_http_socketio_module.so while a test file runs, and its cp
// rewrites the file in place, under the running nginx, whose workers then
// crash at once and on every respawn.  Require this file before harness.js
// (which reads SOCKETIO_MODULE when loaded); a SOCKETIO_MODULE set by the
// caller is used as it is.
if (!process.env.SOCKETIO_MODULE) {
  const src = path.resolve(__dirname, "..", "..", "build", "ngx_http_socketio_module.so");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sio-module-"));
  const dst = path.join(dir, "ngx_http_socketio_module.so");
  fs.copyFileSync(src, dst);
  process.env.SOCKETIO_MODULE = dst;
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
}

const h = require("./harness");
if (h.MODULE !== process.env.SOCKETIO_MODULE) {
  throw new Error("require lib/session.js before lib/harness.js");
}
const { RawWs } = require("./rawws");

// Engine.IO sid, Socket.IO socket id (PROTOCOL 1.8)
const ID = /^[A-Za-z0-9_-]{20}$/;

// what the module answers to a client event that nothing routes (DESIGN 5)
const NOT_ROUTED = '[{"error":"event not routed"}]';

function nspPrefix(nsp) {
  return nsp === "/" ? "" : `${nsp},`;
}

// An upgraded Engine.IO session: the 101 and the open packet are checked
// to be there; ws.handshake is the parsed open packet
async function session(port, opts = {}) {
  const ws = await RawWs.connect(port, opts);
  assert.equal(ws.status, 101, `no upgrade: ${ws.head}\n${ws.body || ""}`);
  const first = await ws.next(() => true, 0);
  assert.equal(first.opcode, 1, "the open packet is a text frame");
  assert.equal(first.fin, 1);
  const text = first.payload.toString();
  assert.equal(text[0], "0", `the first frame is the open packet: ${text}`);
  ws.openText = text;
  ws.handshake = JSON.parse(text.slice(1));
  ws.sid = ws.handshake.sid;
  return ws;
}

// CONNECT to a namespace (auth: object or raw text); the socket id
async function connectNsp(ws, nsp = "/", auth) {
  const pre = nspPrefix(nsp);
  const from = ws.mark();
  const payload = auth === undefined ? "" :
    typeof auth === "string" ? auth : JSON.stringify(auth);
  ws.sendText(`40${pre}${payload}`);
  const reply = await ws.nextText((s) => s.startsWith(`40${pre}`) ||
    s.startsWith(`44${pre}`), from);
  const m = new RegExp(`^40${pre.replace(/[/]/g, "\\/")}\\{"sid":"([A-Za-z0-9_-]{20})"\\}$`)
    .exec(reply);
  assert.ok(m, `CONNECT reply: ${reply}`);
  return m[1];
}

// An event with ack id "id" and the ack that comes back: a positive fence
// (everything sent before it has been handled); the ack packet's text
async function fence(ws, id, nsp = "/") {
  const pre = nspPrefix(nsp);
  const from = ws.mark();
  ws.sendText(`42${pre}${id}["fence",${id}]`);
  const ack = await ws.nextText((s) => s.startsWith(`43${pre}${id}[`), from);
  assert.equal(ack, `43${pre}${id}${NOT_ROUTED}`);
  return ack;
}

// the close frame, checked to be the last frame; then the server ends TCP
async function closed(ws) {
  const c = await ws.closeFrame();
  await ws.ended();
  const last = ws.frames[ws.frames.length - 1];
  assert.equal(last.opcode, 8, "nothing after the close frame: " + ws.describe());
  assert.equal(ws.frames.filter((f) => f.opcode === 8).length, 1, "one close frame");
  return c;
}

// closed as Node closes for an Engine.IO / Socket.IO reason: a close frame
// without status (88 00, PROTOCOL 1.3)
async function closedWithoutStatus(ws) {
  const c = await closed(ws);
  assert.equal(c.payload.length, 0,
    `close frame without status, got ${c.payload.toString("hex")}`);
}

// closed with a WebSocket status code and no reason (as ws does)
async function closedWithCode(ws, code) {
  const c = await closed(ws);
  assert.equal(c.code, code, `close code ${code}, got ${c.payload.toString("hex")}`);
  assert.equal(c.payload.length, 2, "a status code, no reason");
}

// ------------------------------------------------------------ the stack

// Redis, nginx (one worker: the healthy client shares the worker with the
// misbehaving connections) with socketio_redis, an emitter and a
// healthy socket.io-client on /socket.io/
class Stack {
  static async start(opts = {}) {
    const s = new Stack();
    s.raws = [];
    try {
      await s.launch(opts);
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  async launch(opts) {
    const s = this;
    s.redis = await h.Redis.start();
    s.nginx = await h.Nginx.start({
      workers: 1,
      redis: s.redis.url,
      http: opts.http || "",
      location: opts.location || "",
      locations: opts.locations || "",
    });
    await s.redis.waitNumsub("socket.io-request#/#", 1);
    s.emitter = await h.startEmitter(s.redis.url);
    s.client = h.client(s.nginx.port, "/");
    await h.connected(s.client);
    s.checks = 0;
  }

  get port() {
    return this.nginx.port;
  }

  // a raw session, destroyed at the end of the file if still open
  async session(opts) {
    const ws = await session(this.port, opts);
    this.raws.push(ws);
    return ws;
  }

  async raw(opts) {
    const ws = await RawWs.connect(this.port, opts);
    this.raws.push(ws);
    return ws;
  }

  // the healthy client still gets a broadcast and an ack
  async healthy() {
    const n = ++this.checks;
    const name = `health${n}`;
    const got = h.nextEvent(this.client, name);
    this.emitter.emit(name, n);
    assert.deepEqual(await got, [n]);
    const ack = await this.client.timeout(10000).emitWithAck("health", n);
    assert.deepEqual(ack, { error: "event not routed" });
    assert.ok(this.client.connected);
  }

  // the end of a file: everything stopped, then nginx's log checked
  async finish() {
    await this.stop();
    this.nginx.assertCleanLog();
  }

  async stop() {
    for (const ws of this.raws) ws.destroy();
    if (this.client) this.client.close();
    if (this.emitter) {
      // close(), not disconnect(): a PUBLISH whose reply is still on its
      // way must not turn into an unhandled rejection
      await this.emitter.redisClient.close().catch(() => this.emitter.close());
    }
    if (this.nginx) await this.nginx.stop();
    if (this.redis) await this.redis.stop();
  }
}

// A test whose connection misbehaves: after it, the healthy client of the
// stack must not have noticed.  stack() gives the file's stack.
function badTests(stack, defaults) {
  const { test } = require("node:test");
  return (name, fn, opts = {}) => {
    test(name, { ...defaults, ...opts }, async (t) => {
      await fn(t);
      await stack().healthy();
    });
  };
}

module.exports = {
  badTests,
  ID, NOT_ROUTED, nspPrefix, session, connectNsp, fence,
  closed, closedWithoutStatus, closedWithCode, Stack,
};

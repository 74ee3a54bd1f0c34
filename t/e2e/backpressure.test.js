// Slow consumers: a client that stops reading its socket is bounded by
// socketio_send_queue.  Past the bound, volatile packets are dropped for
// it; anything else closes it as a slow consumer.  The other clients keep
// receiving everything.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const crypto = require("node:crypto");
const h = require("../lib/harness");
const { RawWs } = require("../lib/rawws");

const EVENTS = 3000;
const PAYLOAD = "x".repeat(4096);       // 12 MB in all: far past every buffer

// a client that connects to "/" and then never reads again
function stalledClient(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    const key = crypto.randomBytes(16).toString("base64");
    let seen = "";
    sock.on("error", () => {});
    sock.on("connect", () => {
      sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
      sock.write(RawWs.prototype.frame(1, "40"));
    });
    const onData = (d) => {
      seen += d.toString("latin1");
      if (seen.includes('40{"sid"')) {
        sock.off("data", onData);
        sock.pause();                    // from now on, nothing is read
        resolve(sock);
      }
    };
    sock.on("data", onData);
    setTimeout(() => reject(new Error("stalled client did not connect")), 10000);
  });
}

// resumes reading: resolves when the server has closed the connection
function closedByServer(sock, timeout = 20000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("still open")), timeout);
    sock.on("close", () => { clearTimeout(t); resolve(); });
    sock.on("data", () => {});
    sock.resume();
  });
}

async function totals(nginx) {
  const res = await fetch(`http://127.0.0.1:${nginx.port}/status`);
  return (await res.json()).totals;
}

async function setup(t) {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({
    workers: 1, redis: redis.url, logLevel: "warn",
    location: "socketio_send_queue 64k; socketio_ping_interval 120s;",
    locations: "location = /status { socketio_status; }",
  });
  const emitter = await h.startEmitter(redis.url);
  await redis.waitNumsub("socket.io-request#/#", 1);
  t.after(() => h.shutdown(emitter, nginx, redis));
  return { redis, nginx, emitter };
}

test("a client that stops reading is closed as a slow consumer; the others get everything", async (t) => {
  const { nginx, emitter } = await setup(t);

  const fast = h.client(nginx.port);
  await h.connected(fast);
  t.after(() => h.closeAll([fast]));
  const slow = await stalledClient(nginx.port);
  t.after(() => slow.destroy());

  let got = 0;
  fast.on("big", () => got++);
  const all = h.waitFor(() => got === EVENTS, { timeout: 60000, what: `${EVENTS} events` })
    .catch((e) => { throw new Error(`${e.message}: got ${got}\n${nginx.errorLog()}`); });
  for (let i = 0; i < EVENTS; i++) emitter.emit("big", i, PAYLOAD);
  await all;
  assert.equal(got, EVENTS);

  await h.waitFor(() => /closing a slow consumer/.test(nginx.errorLog()),
    { timeout: 20000, what: "the slow consumer log line" });
  await closedByServer(slow);
  assert.equal((await totals(nginx)).slow_consumers, 1);

  // the fast client is still served
  const again = h.nextEvent(fast, "after");
  emitter.emit("after", 1);
  assert.deepEqual(await again, [1]);
});

test("volatile packets are dropped for a client that stops reading, which stays connected", async (t) => {
  const { nginx, emitter } = await setup(t);

  const fast = h.client(nginx.port);
  await h.connected(fast);
  t.after(() => h.closeAll([fast]));
  const slow = await stalledClient(nginx.port);
  t.after(() => slow.destroy());

  let got = 0;
  fast.on("vol", () => got++);
  for (let i = 0; i < EVENTS; i++) emitter.volatile.emit("vol", i, PAYLOAD);
  // a fence: non-volatile, after everything else
  const fence = h.nextEvent(fast, "fence", 60000);
  emitter.to(fast.id).emit("fence", 1);
  await fence;
  assert.ok(got > 0, "the fast client received volatile packets");
  assert.doesNotMatch(nginx.errorLog(), /closing a slow consumer/);
  const st = await totals(nginx);
  assert.equal(st.slow_consumers, 0);
  assert.ok(st.dropped_volatile > 0, "volatile packets were dropped for the stalled client");

  // the stalled client is still there: it reads again and gets an event
  // sent to it after the volatile burst
  let seen = "";
  slow.on("data", (d) => { seen += d.toString("latin1"); });
  slow.resume();
  emitter.emit("hello-again", 1);
  await h.waitFor(() => seen.includes('42["hello-again",1]'),
    { timeout: 20000, what: "the stalled client reading again" });
});

// nginx -s reload and -s quit: sessions are closed with 1001 at once, old
// workers exit (no module timer or connection keeps them), clients
// reconnect to the new workers and receive again.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const h = require("../lib/harness");
const { RawWs } = require("../lib/rawws");

async function openSession(port) {
  const r = await RawWs.connect(port);
  await r.text(/^0\{/);
  r.sendText("40");
  await r.text(/^40\{/);
  return r;
}

test("reload: 1001, old workers gone, clients come back and receive", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({ redis: redis.url, location: "socketio_join $arg_room;" });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  const raws = [];
  for (let i = 0; i < 8; i++) raws.push(await openSession(nginx.port));

  // socket.io-client with its default reconnection
  const clients = [];
  for (let i = 0; i < 8; i++) {
    clients.push(h.client(nginx.port, "/", {
      query: { room: "r" }, reconnection: true, reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    }));
  }
  await h.connectAll(clients);
  t.after(() => h.closeAll(clients));

  const old = nginx.workerPids();
  const reconnected = Promise.all(clients.map((c) =>
    new Promise((resolve) => c.io.once("reconnect", resolve))));

  await nginx.reload();

  const closes = await Promise.all(raws.map((r) => r.closeFrame()));
  assert.deepEqual(closes.map((c) => c.code), raws.map(() => 1001));
  await Promise.all(raws.map((r) => r.ended()));

  await h.waitFor(() => old.every(h.processGone), { what: "the old workers to exit" });
  await reconnected;
  await h.waitFor(() => nginx.workerPids().length === 2, { what: "new workers" });
  await redis.waitNumsub("socket.io-request#/#", 2);

  for (const c of clients) assert.ok(c.connected);
  const arrived = Promise.all(clients.map((c) => h.nextEvent(c, "after-reload")));
  emitter.to("r").emit("after-reload", 1);
  await arrived;
});

test("reload with a changed socketio_namespaces: the new set applies", async (t) => {
  const nginx = await h.Nginx.start({ location: "socketio_namespaces /;" });
  t.after(async () => {
    await nginx.stop();
    nginx.assertCleanLog();
  });

  const before = h.client(nginx.port, "/admin");
  await assert.rejects(h.connected(before), /Invalid namespace/);
  before.close();

  const old = nginx.workerPids();
  await nginx.reload({ location: "socketio_namespaces / /admin;" });
  await h.waitFor(() => old.every(h.processGone), { what: "the old workers to exit" });

  const after = h.client(nginx.port, "/admin");
  await h.connected(after);
  after.close();
});

test("quit: sessions get 1001 and nginx exits", async (t) => {
  const nginx = await h.Nginx.start({});
  const raws = [];
  for (let i = 0; i < 4; i++) raws.push(await openSession(nginx.port));

  const workers = nginx.workerPids();
  const stopped = nginx.stop();

  const closes = await Promise.all(raws.map((r) => r.closeFrame()));
  assert.deepEqual(closes.map((c) => c.code), [1001, 1001, 1001, 1001]);
  await stopped;
  assert.ok(workers.every(h.processGone));
  nginx.assertCleanLog();
});

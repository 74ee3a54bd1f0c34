// Redis, owned by nginx: AUTH, a database, a unix socket; and Redis going
// away: local delivery goes on, clients stay, and when Redis is back the
// module resubscribes and broadcasts flow again.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const h = require("../lib/harness");

async function roundTrip(emitter, sockets, name) {
  const arrived = Promise.all(sockets.map((s) => h.nextEvent(s, name)));
  emitter.emit(name, "x");
  return arrived;
}

test("AUTH with a password, and a database number", async (t) => {
  const redis = await h.Redis.start({ password: "s3cret" });
  const nginx = await h.Nginx.start({ redis: `redis://:s3cret@127.0.0.1:${redis.port}/3` });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  const s = h.client(nginx.port);
  await h.connected(s);
  t.after(() => s.close());

  await roundTrip(emitter, [s], "with-auth");

  // both connections logged in; the command connection selected db 3
  const clients = await redis.command("CLIENT", "LIST");
  assert.match(clients, /db=3 /);
});

test("a wrong password is an error in the log, not a crash", async (t) => {
  const redis = await h.Redis.start({ password: "right" });
  const nginx = await h.Nginx.start({ redis: `redis://:wrong@127.0.0.1:${redis.port}` });
  t.after(() => h.shutdown(nginx, redis));

  await h.waitFor(() => /redis .* refused AUTH/.test(nginx.errorLog()),
    { what: "the AUTH error in error.log" });

  // the node still serves its clients
  const s = h.client(nginx.port);
  await h.connected(s);
  s.close();
});

test("a unix socket", async (t) => {
  const dir = h.tmpdir();
  const sock = path.join(dir, "redis.sock");
  const redis = await h.Redis.start({ unixsocket: sock });
  const nginx = await h.Nginx.start({ redis: `unix:${sock}` });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  const s = h.client(nginx.port);
  await h.connected(s);
  t.after(() => s.close());

  await roundTrip(emitter, [s], "over-unix");

  // a clean shutdown removes the socket file: an outage, logged as an
  // error (never crit), and the module comes back with Redis
  await redis.stop("SIGTERM");
  await h.waitFor(() => /redis .* connection lost/.test(nginx.errorLog()),
    { what: "connection lost" });
  await h.sleep(300);
  await redis.restart();
  await redis.waitNumsub("socket.io-request#/#", 2);

  const again = await h.startEmitter(redis.url);
  t.after(() => again.close());
  await roundTrip(again, [s], "over-unix-again");
  nginx.assertCleanLog();
});

for (const mode of ["pattern", "rooms"]) {
  test(`redis stops and starts again (${mode})`, async (t) => {
    const redis = await h.Redis.start();
    const nginx = await h.Nginx.start({
      redis: redis.url,
      http: `socketio_subscribe ${mode};`,
      location: "socketio_ping_interval 200ms; socketio_ping_timeout 2s;" +
                "socketio_join $arg_room;",
    });
    t.after(() => h.shutdown(nginx, redis));

    await redis.waitNumsub("socket.io-request#/#", 2);

    const before = [];
    for (let i = 0; i < 6; i++) before.push(h.client(nginx.port, "/", { query: { room: "r" } }));
    await h.connectAll(before);
    t.after(() => h.closeAll(before));

    let disconnects = 0;
    for (const s of before) s.on("disconnect", () => disconnects++);

    let emitter = await h.startEmitter(redis.url);
    await roundTrip(emitter, before, "first");
    await emitter.close();

    await redis.stop();
    await h.waitFor(() => /redis .* connection lost/.test(nginx.errorLog()),
      { what: "connection lost in error.log" });

    // while Redis is away: sessions live on (pings at 200ms keep them
    // alive), new clients connect, client events get their answer
    const during = h.client(nginx.port, "/", { query: { room: "r" } });
    await h.connected(during);
    t.after(() => during.close());

    const ack = await during.timeout(5000).emitWithAck("hello");
    assert.deepEqual(ack, { error: "event not routed" });

    const pings = await new Promise((resolve) => {
      let n = 0;
      const e = before[0].io.engine;
      const on = () => { if (++n === 3) { e.off("ping", on); resolve(n); } };
      e.on("ping", on);
    });
    assert.equal(pings, 3);

    await redis.restart();

    // resubscribed in one batch: both workers count again
    await redis.waitNumsub("socket.io-request#/#", 2);
    await h.waitFor(() => /redis .* reconnected/.test(nginx.errorLog()),
      { what: "reconnected in error.log" });

    emitter = await h.startEmitter(redis.url);
    t.after(() => emitter.close());

    const all = [...before, during];
    await roundTrip(emitter, all, "after");

    // a room broadcast too (rooms mode: the room channels are back)
    const arrived = Promise.all(all.map((s) => h.nextEvent(s, "to-room")));
    emitter.to("r").emit("to-room");
    await arrived;

    assert.equal(disconnects, 0, "no client was disconnected");
    for (const s of all) assert.ok(s.connected);

    const log = nginx.errorLog();
    assert.match(log, /\[error\].*redis .* connection lost/);
    assert.match(log, /\[notice\].*redis .* reconnected/);
  });
}

test("rooms mode: CONNECT waits for the subscription of the socket's rooms", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({
    redis: redis.url,
    http: "socketio_subscribe rooms;",
    location: "socketio_join $arg_room;",
  });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  // as soon as a client sees itself connected, io.to(its id) and
  // io.to(its room) reach it: no subscription gap
  for (let i = 0; i < 20; i++) {
    const s = h.client(nginx.port, "/", { query: { room: `fresh${i}` } });
    await h.connected(s);
    const direct = h.nextEvent(s, "direct");
    const room = h.nextEvent(s, "room");
    emitter.to(s.id).emit("direct");
    emitter.to(`fresh${i}`).emit("room");
    await Promise.all([direct, room]);
    s.close();
  }

  // and the room channels go when their last member leaves
  await h.waitFor(async () => (await redis.numsub("socket.io#/#fresh0#")) === 0,
    { what: "unsubscribed from an empty room" });
});

test("malformed messages from Redis are logged and dropped", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({ redis: redis.url, location: "socketio_join $arg_room;" });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  const s = h.client(nginx.port, "/", { query: { room: "r" } });
  await h.connected(s);
  t.after(() => s.close());
  const got = h.recorder(s);

  const bad = [
    "", "garbage", "\x93", "\xc1", "{\"json\":1}",
    // [uid, packet, opts] with wrong shapes
    Buffer.from("93a1789100", "hex"),                        // packet not a map
    Buffer.from("93a17881a474797065029080", "hex"),          // no data
    Buffer.from("93a17882a47479706502a46461746190" + "80", "hex"),  // empty data
    Buffer.from("93a17882a47479706507a4646174619" + "1a1788" + "0", "hex"), // type 7
    Buffer.from("93a17882a47479706502a464617461" + "91a9646973636f6e6e656374" + "80", "hex"),
    Buffer.from("dd7fffffff", "hex"),                       // a huge array, no bytes
  ];
  const { createClient } = require("redis");
  const c = createClient({ url: redis.url });
  c.on("error", () => {});
  await c.connect();
  t.after(() => h.closeRedisClient(c));
  for (const b of bad) {
    await c.publish("socket.io#/#", Buffer.isBuffer(b) ? b : Buffer.from(b, "latin1"));
    await c.publish("socket.io#/#r#", Buffer.isBuffer(b) ? b : Buffer.from(b, "latin1"));
  }
  // and a channel of a room nobody is in: dropped without being decoded
  await c.publish("socket.io#/#nobody#", "garbage");

  emitter.to("r").emit("still", "fine");
  await h.nextEvent(s, "still");
  assert.deepEqual(got, [["still", "fine"]]);
  assert.ok(s.connected);

  await h.waitFor(() => /malformed broadcast from redis dropped/.test(nginx.errorLog()),
    { what: "the malformed message in error.log" });
});

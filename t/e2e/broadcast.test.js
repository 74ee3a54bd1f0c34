// Broadcasts from a Node.js app server (@socket.io/redis-adapter, classic)
// and from @socket.io/redis-emitter reach exactly the right sockets held
// by nginx, on every worker, as Node would deliver them.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("../lib/harness");

for (const mode of ["pattern", "rooms"]) {
  let redis, nginx, node, emitter;

  test(`broadcasts, socketio_subscribe ${mode}`, async (t) => {
    redis = await h.Redis.start();
    nginx = await h.Nginx.start({
      workers: 2,
      redis: redis.url,
      http: `socketio_subscribe ${mode};`,
      server: "",
      location: `socketio_namespaces / /chat;
                 socketio_join $arg_room $arg_room2;`,
    });
    node = await h.startNodeServer({ redis: redis.url, namespaces: ["/", "/chat"] });
    emitter = await h.startEmitter(redis.url);

    // two workers and the Node server answer on the request channel
    await redis.waitNumsub("socket.io-request#/#", 3);
    await redis.waitNumsub("socket.io-request#/chat#", 3);

    t.after(() => h.shutdown(emitter, node, nginx, redis));

    // clients: a and b in room "r1", c in "r2", d in none; a also in "r2"
    const a = h.client(nginx.port, "/", { query: { room: "r1", room2: "r2" } });
    const b = h.client(nginx.port, "/", { query: { room: "r1" } });
    const c = h.client(nginx.port, "/", { query: { room: "r2" } });
    const d = h.client(nginx.port, "/");
    const x = h.client(nginx.port, "/chat", { query: { room: "r1" } });
    const all = [a, b, c, d];
    await h.connectAll([...all, x]);
    t.after(() => h.closeAll(all, x));

    const got = new Map(all.map((s) => [s, h.recorder(s)]));
    const gotX = h.recorder(x);

    // a "fence" event to everyone, after the events under test: when it
    // has arrived, everything published before it has too (one Redis
    // connection publishes in order, one subscriber receives in order)
    let fences = 0;
    async function fence(from, sockets) {
      const name = `fence${++fences}`;
      const arrived = Promise.all(sockets.map((s) => h.nextEvent(s, name)));
      from.emit(name);
      await arrived;
    }
    function drain() {
      const out = new Map();
      for (const [s, ev] of got) out.set(s, ev.splice(0).filter((e) => !/^fence/.test(e[0])));
      return out;
    }
    async function both(fn) {
      fn(node.io);
      fn(emitter);
      await fence(emitter, all);
      await fence(node.io.of("/chat"), [x]);
      return drain();
    }

    await t.test("to everyone", async () => {
      const r = await both((io) => io.emit("hello", "world", 1, { a: true }, null, 1.5));
      for (const s of all) {
        assert.deepEqual(r.get(s), [
          ["hello", "world", 1, { a: true }, null, 1.5],
          ["hello", "world", 1, { a: true }, null, 1.5]]);
      }
    });

    await t.test("to one room: members only, non-members receive nothing", async () => {
      const r = await both((io) => io.to("r1").emit("room", "r1"));
      assert.deepEqual(r.get(a), [["room", "r1"], ["room", "r1"]]);
      assert.deepEqual(r.get(b), [["room", "r1"], ["room", "r1"]]);
      assert.deepEqual(r.get(c), []);
      assert.deepEqual(r.get(d), []);
    });

    await t.test("to several rooms: each member once", async () => {
      const r = await both((io) => io.to(["r1", "r2"]).emit("rooms"));
      for (const s of [a, b, c]) assert.deepEqual(r.get(s), [["rooms"], ["rooms"]]);
      assert.deepEqual(r.get(d), []);
    });

    await t.test("except", async () => {
      const r = await both((io) => io.to(["r1", "r2"]).except("r2").emit("ex"));
      assert.deepEqual(r.get(a), []);
      assert.deepEqual(r.get(b), [["ex"], ["ex"]]);
      assert.deepEqual(r.get(c), []);

      const r2 = await both((io) => io.except(["r1"]).emit("ex2"));
      assert.deepEqual(r2.get(a), []);
      assert.deepEqual(r2.get(b), []);
      assert.deepEqual(r2.get(c), [["ex2"], ["ex2"]]);
      assert.deepEqual(r2.get(d), [["ex2"], ["ex2"]]);
    });

    await t.test("to a socket id: that socket only", async () => {
      const r = await both((io) => io.to(c.id).emit("direct", c.id));
      assert.deepEqual(r.get(c), [["direct", c.id], ["direct", c.id]]);
      for (const s of [a, b, d]) assert.deepEqual(r.get(s), []);

      const r2 = await both((io) => io.except(c.id).emit("but-c"));
      assert.deepEqual(r2.get(c), []);
      assert.deepEqual(r2.get(d), [["but-c"], ["but-c"]]);
    });

    await t.test("binary arrives as binary", async () => {
      const r = await both((io) => io.to("r2").emit("bin", Buffer.from([1, 2, 3]),
        { x: Buffer.from([4, 5]), y: [Buffer.alloc(0)] }));
      for (const ev of r.get(a)) {
        assert.equal(ev[0], "bin");
        assert.ok(Buffer.isBuffer(ev[1]), "a Buffer, not an object");
        assert.deepEqual([...ev[1]], [1, 2, 3]);
        assert.deepEqual([...ev[2].x], [4, 5]);
        assert.equal(ev[2].y[0].length, 0);
      }
      assert.equal(r.get(a).length, 2);
      assert.deepEqual(r.get(b), []);
    });

    await t.test("volatile and compress(false) are delivered to ready clients", async () => {
      const r = await both((io) => { io.volatile.emit("vol", 1); io.compress(false).emit("nocomp", 2); });
      for (const s of all) {
        assert.deepEqual(r.get(s), [["vol", 1], ["nocomp", 2], ["vol", 1], ["nocomp", 2]]);
      }
    });

    await t.test("namespaces are separate", async () => {
      node.io.of("/chat").to("r1").emit("chat", "n");
      emitter.of("/chat").emit("chat", "e");
      node.io.emit("root-only");
      await fence(emitter, all);
      await fence(emitter.of("/chat"), [x]);
      await fence(node.io.of("/chat"), [x]);
      const r = drain();
      const xs = gotX.splice(0).filter((e) => !/^fence/.test(e[0]));
      assert.deepEqual(xs, [["chat", "n"], ["chat", "e"]]);
      for (const s of all) assert.deepEqual(r.get(s), [["root-only"]]);
    });

    await t.test("values as Node delivers them", async () => {
      const date = new Date(1500);
      const r = await both((io) => io.to(d.id).emit("values",
        { b: 1, 2: "two", a: [1, null, true], "01": 0 }, 0.1, -0, 1e19, 2 ** 53, date,
        "\u0000\n\"\\é😀", ""));
      const expect = ["values", { 2: "two", b: 1, a: [1, null, true], "01": 0 },
        0.1, 0, 1e19, 2 ** 53, "1970-01-01T00:00:01.500Z", "\u0000\n\"\\é😀", ""];
      assert.deepEqual(r.get(d), [expect, expect]);
      assert.deepEqual(Object.keys(r.get(d)[0][1]), ["2", "b", "a", "01"]);
    });

    await t.test("a Node client receives the same", async () => {
      // the reference: the same broadcasts to a client of the Node server
      const n = h.client(node.port, "/");
      await h.connected(n);
      const ev = h.recorder(n);
      const mine = h.recorder(d);
      // 1e21: notepack.io writes it as a corrupt uint64, and Node
      // delivers the corrupt value; so must this node
      const args = ["ref", { z: 1, 10: 2, 9: 3 }, [undefined, 1], 1.25e-7,
        Buffer.from([9]), 1e21, -1e300, new Date(-1)];
      emitter.emit(...args);
      await h.waitFor(() => ev.length === 1 && mine.some((e) => e[0] === "ref"));
      n.close();
      assert.deepEqual(mine.find((e) => e[0] === "ref"), ev[0]);
      got.get(d).splice(0);
    });
  });
}

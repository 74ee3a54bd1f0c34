// nginx workers as full members of a classic @socket.io/redis-adapter
// cluster (issue 3, items 1 and 2; PROTOCOL 2.7, 2.9, 4.4, 4.5): two
// Node.js app servers and nginx with two workers on one real Redis.  Every
// request of the catalogue is made from Node (or from the emitter, or
// published raw as a 7.x node or a broken peer would) against sockets held
// by both workers, and the results are compared, exactly, with what the
// same operation gives for sockets held by Node servers.
//
// Reference behaviour measured with a Node-only cluster (socket.io 4.8,
// redis-adapter 8.3.0) before writing the expectations below:
//   - serverSideEmitWithAck to a server with no listener for the event:
//     that server never answers; the requester rejects after its
//     requestsTimeout with "timeout reached: only 0 responses received out
//     of 1" and err.responses = [];
//   - a client ack without arguments reaches emitWithAck as undefined;
//   - disconnectSockets(false): the client sees "io server disconnect" on
//     that namespace, its other namespaces stay connected;
//     disconnectSockets(true): "io server disconnect" on every namespace of
//     the connection, then the connection closes.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
// session.js first: it pins a copy of the module under test (see there)
const { session, connectNsp } = require("../lib/session");
const h = require("../lib/harness");
const { createClient } = require("redis");
const notepack = require("notepack.io");

const REQ = "socket.io-request#/#";
const RESP = "socket.io-response#/#";
// the uid of a requester that is not a node: raw requests published here
const UID = "abcdef";
const OWN_RESP = `${RESP}${UID}#`;

// new Date() + "" (PROTOCOL 2.9)
const TIME = new RegExp("^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) " +
  "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{2} \\d{4} " +
  "\\d{2}:\\d{2}:\\d{2} GMT[+-]\\d{4} \\(.+\\)$");
const HANDSHAKE_KEYS = ["headers", "time", "address", "xdomain", "secure",
  "issued", "url", "query", "auth"];

// reuseport: the kernel spreads connections over the two workers
function conf(port, redisUrl, http = "") {
  return `
    socketio_redis ${redisUrl};
    ${http}
    server {
        listen 127.0.0.1:${port} reuseport;
        location /socket.io/ {
            socketio;
            socketio_namespaces / /chat;
            socketio_join $arg_room $arg_room2;
            socketio_data user $arg_user;
            socketio_data pid $pid;
        }
    }`;
}

// a Node server whose sockets get what the nginx location above gives
function likeNginx(srv) {
  for (const name of ["/", "/chat"]) {
    srv.io.of(name).on("connection", (s) => {
      const q = s.handshake.query;
      s.data = { user: q.user ?? "", pid: String(process.pid) };
      for (const r of [q.room, q.room2]) if (r) s.join(r);
    });
  }
}

function decode(buf) {
  return buf[0] === 0x7b ? JSON.parse(buf.toString()) : notepack.decode(buf);
}

// every request and response of the cluster, decoded where it decodes
async function monitor(url) {
  const sub = createClient({ url });
  sub.on("error", () => {});
  await sub.connect();
  const msgs = [];
  await sub.pSubscribe(["socket.io-request#*", "socket.io-response#*"], (raw, channel) => {
    let msg = null;
    try {
      msg = decode(raw);
    } catch {
      // the garbage this test publishes itself
    }
    msgs.push({ channel: channel.toString(), raw, msg });
  }, true);
  return {
    msgs,
    requests(pred) {
      return msgs.filter((m) => m.channel.startsWith("socket.io-request#") &&
        m.msg && typeof m.msg === "object" && pred(m.msg));
    },
    responses(requestId) {
      return msgs.filter((m) => m.channel.startsWith("socket.io-response#") &&
        m.msg && typeof m.msg === "object" && m.msg.requestId === requestId);
    },
    close: () => h.closeRedisClient(sub),
  };
}

async function publisher(url) {
  const pub = createClient({ url });
  pub.on("error", () => {});
  await pub.connect();
  return pub;
}

let seq = 0;
const rid = (prefix = "r") => `${prefix}${++seq}`;

// publishes a raw request and waits for n responses to it
async function ask(pub, mon, req, n) {
  await pub.publish(REQ, typeof req === "string" ? req : JSON.stringify(req));
  const id = typeof req === "string" ? JSON.parse(req).requestId : req.requestId;
  return h.waitFor(() => {
    const r = mon.responses(id);
    return r.length >= n && r;
  }, { what: `${n} responses to ${typeof req === "string" ? req : JSON.stringify(req)}` +
    ` (got ${mon.responses(id).length})` });
}

// every node has handled what was published before: each of the n nodes
// answers an ALL_ROOMS, in order after the earlier requests
async function settle(pub, mon, n) {
  await ask(pub, mon, { uid: UID, requestId: rid("fence"), type: 1 }, n);
}

// fn() (which asserts) passes, sooner or later
function eventually(fn, what) {
  return h.waitFor(async () => {
    await fn();
    return true;
  }, { what, timeout: 15000, interval: 50 });
}

const sorted = (a) => [...a].sort();
const ids = (list) => sorted(list.map((x) => x.id));
const byIdOrder = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function checkTime(hs, before, after) {
  assert.ok(Number.isInteger(hs.issued), `issued ${hs.issued} is an integer`);
  // ms since the epoch, when the connection came (generous bounds: the
  // time of the process that accepted it, not a measure of speed)
  assert.ok(hs.issued >= before - 2000 && hs.issued <= after + 2000,
    `issued ${hs.issued} in [${before}, ${after}]`);
  assert.match(hs.time, TIME);
  const t = Date.parse(hs.time);
  assert.ok(Math.abs(t - hs.issued) < 2000, `time "${hs.time}" is issued ${hs.issued}`);
}

// ---------------------------------------------------------------- cluster

for (const mode of ["pattern", "rooms"]) {
  const name = `nginx workers answer every request of a classic redis-adapter cluster` +
    ` (socketio_subscribe ${mode})`;
  test(name, async (t) => {
    let redis, nginx, A, B, emitter, mon, pub;
    const reg = [];      // the clients of the common set: {sock, at, id, user, rooms, ...}
    const extra = [];    // clients of single tests
    t.after(async () => {
      h.closeAll(reg.map((e) => e.sock), extra);
      if (pub) await h.closeRedisClient(pub);
      await h.shutdown(mon, emitter, A, B, nginx, redis);
    });

    redis = await h.Redis.start();
    const port = await h.freePort();
    nginx = await h.Nginx.start({
      workers: 2, port, conf: conf(port, redis.url, `socketio_subscribe ${mode};`),
    });
    const workerPids = sorted(nginx.workerPids());
    A = await h.startNodeServer({ redis: redis.url, namespaces: ["/", "/chat"] });
    B = await h.startNodeServer({ redis: redis.url, namespaces: ["/", "/chat"] });
    likeNginx(A);
    likeNginx(B);
    emitter = await h.startEmitter(redis.url);
    mon = await monitor(redis.url);
    pub = await publisher(redis.url);
    const servers = { nginx, A, B };

    // a client of nginx, A or B in the common set; it acks "ask" with its
    // id and x (and a second argument that must not travel), "ask0" with
    // no argument at all
    async function join(at, query = {}, opts = {}) {
      const before = Date.now();
      const sock = h.client(servers[at].port, "/", { query, ...opts });
      await h.connected(sock);
      const e = {
        sock, at, id: sock.id, user: query.user ?? "", before, after: Date.now(),
        rooms: [query.room, query.room2].filter(Boolean), events: h.recorder(sock),
      };
      sock.on("ask", (x, cb) => cb({ id: sock.id, x }, "second"));
      sock.on("ask0", (cb) => cb());
      sock.on("askbin", (b, o, cb) => cb({ id: sock.id, b, o: o.b, n: [b] }));
      reg.push(e);
      return e;
    }
    const byId = (id) => reg.find((e) => e.id === id);
    const isNginx = (rs) => byId(rs.id)?.at === "nginx";
    const inRoom = (e, r) => e.id === r || e.rooms.includes(r);
    // target selection of PROTOCOL 3.2 over the model
    function select(rooms = [], except = []) {
      return reg.filter((e) => (rooms.length === 0 || rooms.some((r) => inRoom(e, r))) &&
        !except.some((r) => inRoom(e, r)));
    }
    function modelJoin(targets, rooms) {
      for (const e of targets) for (const r of rooms) if (!e.rooms.includes(r)) e.rooms.push(r);
    }
    function modelLeave(targets, rooms) {
      for (const e of targets) e.rooms = e.rooms.filter((r) => !rooms.includes(r));
    }
    // rooms as fetchSockets() reports them: the sid, then join order
    async function checkRooms() {
      const all = await A.io.fetchSockets();
      assert.deepEqual(ids(all), ids(reg));
      for (const rs of all) {
        assert.deepEqual([...rs.rooms], [rs.id, ...byId(rs.id).rooms],
          `rooms of the ${byId(rs.id).at} socket ${rs.id}`);
      }
    }
    // everything "from" published before has been delivered
    let fences = 0;
    async function fence(from, list = reg) {
      const name = `fence${++fences}`;
      const arrived = Promise.all(list.map((e) => h.nextEvent(e.sock, name)));
      from.emit(name);
      await arrived;
    }
    const count = (e, name) => e.events.filter((ev) => ev[0] === name).length;
    // socketio_subscribe rooms: a room joined by a request is subscribed
    // a moment later (README), as with Node's sharded adapter in dynamic
    // mode; a broadcast to it waits for the workers holding members
    async function roomReady(room) {
      if (mode !== "rooms") return;
      const workers = new Set(select([room]).filter((e) => e.at === "nginx").map((e) => e.pid));
      await redis.waitNumsub(`socket.io#/#${room}#`, workers.size, `workers subscribed to ${room}`);
    }

    await t.test("PUBSUB NUMSUB counts both nginx workers and both Node servers", async () => {
      await redis.waitNumsub(REQ, 4);
      await redis.waitNumsub("socket.io-request#/chat#", 4);
      assert.equal(workerPids.length, 2);
      assert.equal(await redis.numsub(REQ), 4);
    });

    // the common set: nginx clients in "even" / "odd" (the first also in
    // "vip"), a client of A, clients of B (one alone in "bonly"), and two
    // pairs connected the same way to nginx and to B for the handshake
    const N = [];
    const joinN = async () => {
      const i = N.length;
      const query = { user: `n${i}`, room: i % 2 ? "odd" : "even" };
      if (i === 0) query.room2 = "vip";
      N.push(await join("nginx", query));
    };
    for (let i = 0; i < 8; i++) await joinN();
    const A0 = await join("A", { user: "a0", room: "odd" });
    const B0 = await join("B", { user: "b0", room: "even" });
    const B1 = await join("B", { user: "b1", room: "bonly" });
    const hsOpts = {
      query: { user: "hs", room: "hs", x: "a b&c", e: "", "k y": "1" },
      auth: { token: "t", n: [1, null] },
      extraHeaders: {
        "X-Custom": "v1", Origin: "http://example.com", "X-Multi": ["a", "b"],
        Cookie: ["a=1", "b=2"], "User-Agent": ["ua1", "ua2"],
      },
      localAddress: "127.0.0.2",
    };
    const NH = await join("nginx", hsOpts.query, hsOpts);
    const BH = await join("B", hsOpts.query, hsOpts);
    const NP = await join("nginx", { user: "plain" });
    const BP = await join("B", { user: "plain" });

    await t.test("nginx sockets are on both workers (socketio_data pid $pid)", async () => {
      for (let round = 0; ; round++) {
        const all = await A.io.fetchSockets();
        for (const rs of all.filter(isNginx)) byId(rs.id).pid = Number(rs.data.pid);
        const seen = sorted(new Set(all.filter(isNginx).map((rs) => Number(rs.data.pid))));
        if (seen.length === 2) {
          assert.deepEqual(seen, workerPids);
          break;
        }
        // reuseport hashes the source port: more clients until both have some
        assert.ok(round < 8, `nginx sockets only on workers ${seen} of ${workerPids}`);
        for (let i = 0; i < 4; i++) await joinN();
      }
    });

    await t.test("fetchSockets(): every socket, with id, rooms and data", async () => {
      const all = await A.io.fetchSockets();
      assert.deepEqual(ids(all), ids(reg), "each socket once, nginx's and Node's");
      for (const rs of all) {
        const e = byId(rs.id);
        assert.deepEqual([...rs.rooms], [e.id, ...e.rooms], `rooms of ${e.user}`);
        const pid = e.at === "nginx" ? rs.data.pid : String(process.pid);
        assert.deepEqual(rs.data, { user: e.user, pid }, `data of ${e.user}`);
        assert.deepEqual(Object.keys(rs.data), ["user", "pid"]);
        if (e.at === "nginx") assert.ok(workerPids.includes(Number(pid)), `pid ${pid}`);
        assert.deepEqual(Object.keys(rs.handshake), HANDSHAKE_KEYS, `handshake of ${e.user}`);
        checkTime(rs.handshake, e.before, e.after);
      }
      // the same from the other Node server
      assert.deepEqual(ids(await B.io.fetchSockets()), ids(reg));
    });

    await t.test("in(room) / except(room) fetchSockets()", async () => {
      const cases = [
        [["even"], []], [["odd"], []], [["odd", "vip"], []], [["vip"], []],
        [[], ["even"]], [[], ["odd", "hs"]], [["odd"], [N[1].id]], [["even"], ["vip"]],
        [[N[3].id], []], [[N[2].id, B0.id, A0.id], []], [["bonly"], []], [["ghost"], []],
        [[], [N[0].id]],
      ];
      for (const [rooms, except] of cases) {
        const got = await A.io.in(rooms).except(except).fetchSockets();
        assert.deepEqual(ids(got), ids(select(rooms, except)),
          `in(${JSON.stringify(rooms)}).except(${JSON.stringify(except)})`);
      }
      // many at once, from both servers: each gets its own answer
      const many = cases.flatMap(([rooms, except]) => [A, B].map(async (srv) => {
        const got = await srv.io.in(rooms).except(except).fetchSockets();
        assert.deepEqual(ids(got), ids(select(rooms, except)));
      }));
      await Promise.all(many);
      // the /chat namespace has no sockets yet: nginx answers for it alone
      assert.deepEqual(await A.io.of("/chat").fetchSockets(), []);
    });

    // a (nginx's) and b (Node's) for clients that connected the same way
    function sameHandshake(a, b, address, hostPort = nginx.port) {
      assert.deepEqual(Object.keys(a), HANDSHAKE_KEYS);
      assert.deepEqual(Object.keys(b), HANDSHAKE_KEYS);
      assert.deepEqual(Object.keys(a.headers), Object.keys(b.headers), "header names, in order");
      for (const k of Object.keys(b.headers)) {
        if (k === "host" || k === "sec-websocket-key") continue;
        assert.deepEqual(a.headers[k], b.headers[k], `header ${k}`);
      }
      assert.equal(a.headers.host, `127.0.0.1:${hostPort}`);
      assert.match(a.headers["sec-websocket-key"], /^[A-Za-z0-9+/]{22}==$/);
      assert.equal(b.address, `::ffff:${address}`);
      assert.equal(a.address, address);
      for (const k of ["xdomain", "secure", "url", "query", "auth"]) {
        assert.deepEqual(a[k], b[k], k);
      }
      assert.deepEqual(Object.keys(a.query), Object.keys(b.query), "query keys, in order");
    }

    await t.test("handshake: what Node reports for the same client", async () => {
      const all = await A.io.fetchSockets();
      const get = (e) => all.find((rs) => rs.id === e.id).handshake;
      for (const [ng, nd, address] of [[NH, BH, "127.0.0.2"], [NP, BP, "127.0.0.1"]]) {
        sameHandshake(get(ng), get(nd), address);
        checkTime(get(ng), ng.before, ng.after);
      }
      // what the two pairs were: the values themselves
      const a = get(NH);
      assert.equal(a.xdomain, true);
      assert.equal(a.secure, false);
      assert.equal(a.headers["x-multi"], "a, b");
      assert.equal(a.headers.cookie, "a=1; b=2");
      assert.equal(a.headers["user-agent"], "ua1");
      assert.equal(a.url, "/socket.io/?user=hs&room=hs&x=a%20b%26c&e=&k%20y=1&EIO=4&transport=websocket");
      assert.deepEqual(a.query, {
        user: "hs", room: "hs", x: "a b&c", e: "", "k y": "1", EIO: "4", transport: "websocket",
      });
      assert.deepEqual(a.auth, { token: "t", n: [1, null] });
      const p = get(NP);
      assert.equal(p.xdomain, false);
      assert.deepEqual(p.auth, {});
    });

    // the same raw upgrade request to nginx and to B: both handshakes, as
    // fetchSockets() on A reports them
    const RAW_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    async function rawPair(query, headers = {}) {
      const socks = [];
      try {
        const sids = [];
        for (const port of [nginx.port, B.port]) {
          const ws = await session(port, {
            query,
            headers: {
              Host: `127.0.0.1:${port}`, Connection: "Upgrade", Upgrade: "websocket",
              "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": RAW_KEY, ...headers,
            },
          });
          socks.push(ws);
          sids.push(await connectNsp(ws, "/", { raw: ["é😀", 1e21, { 1: 2, a: null }] }));
        }
        const all = await A.io.fetchSockets();
        const [a, b] = sids.map((id) => all.find((rs) => rs.id === id)?.handshake);
        assert.ok(a && b, "both raw sockets fetched");
        assert.equal(a.headers["sec-websocket-key"], RAW_KEY);
        assert.equal(a.url, `/socket.io/?${query}`);
        return [a, b];
      } finally {
        for (const ws of socks) ws.sock.destroy();
        await eventually(checkRooms, "the raw sockets are gone");
      }
    }

    await t.test("raw handshake: repeated, mixed-case and padded headers", async () => {
      const [a, b] = await rawPair("EIO=4&transport=websocket", {
        "X-Dup": "1", "x-dup": "2", "X-Space": "  v  w  ", Cookie: "c=1", cookie: "d=2",
        Referer: "first", referer: "second", "X-Empty": "",
      });
      sameHandshake(a, b, "127.0.0.1");
      assert.equal(a.xdomain, false);
    });

    // Node's quirks, each of which the module once got wrong: a repeated
    // query key keeps its last value and "%zz" stays (URLSearchParams),
    // an empty Origin is no origin (!!headers.origin), header bytes are
    // latin1 characters (Node's HTTP parser).
    await t.test("raw handshake: header bytes beyond ASCII read as latin1, as Node does", async () => {
      // Node's HTTP parser gives each byte of a header value one character
      const [a, b] = await rawPair("EIO=4&transport=websocket", { "X-U": "é😀", Cookie: "n=ü" });
      assert.equal(b.headers["x-u"], Buffer.from("é😀").toString("latin1"));
      sameHandshake(a, b, "127.0.0.1");
    });

    await t.test("raw handshake: an empty Origin header is not cross-domain", async () => {
      // Node: xdomain = !!headers.origin
      const [a, b] = await rawPair("EIO=4&transport=websocket", { Origin: "" });
      assert.equal(b.xdomain, false);
      sameHandshake(a, b, "127.0.0.1");
    });

    await t.test("raw handshake: the query as engine.io parses it (URLSearchParams)", async () => {
      // Object.fromEntries(new URL(url).searchParams): the last of repeated
      // keys wins, an invalid escape stays as it is, "+" is a space
      const query = "EIO=4&transport=websocket&a=1&a=2&b=x+y&c=%zz&d&=e&f=%E2%82%AC" +
        "&g=%C3&h=a=b&i=%2B%25&a=3&j=%F0%9F%98%80&k=%&l=%4";
      const [a, b] = await rawPair(query);
      assert.deepEqual(b.query, {
        EIO: "4", transport: "websocket", a: "3", b: "x y", c: "%zz", d: "", "": "e",
        f: "€", g: "\ufffd", h: "a=b", i: "+%", j: "😀", k: "%", l: "%4",
      });
      sameHandshake(a, b, "127.0.0.1");
    });

    await t.test("allRooms(): nginx rooms and socket id rooms", async () => {
      const expect = new Set(reg.flatMap((e) => [e.id, ...e.rooms]));
      const got = await A.io.of("/").adapter.allRooms();
      assert.deepEqual(sorted(got), sorted(expect));
      assert.deepEqual(sorted(await A.io.of("/chat").adapter.allRooms()), []);
    });

    await t.test("broadcast with acks: every client's first ack argument", async () => {
      const x = { s: "é😀\"", n: [1.5, null, true, -0], big: 2 ** 53, o: { 2: 1, a: 2 } };
      const res = await A.io.timeout(5000).emitWithAck("ask", x);
      const expect = reg.map((e) => ({ id: e.id, x: { ...x, n: [1.5, null, true, 0] } }));
      assert.deepEqual([...res].sort(byIdOrder), expect.sort(byIdOrder));

      // binary out and back: Buffers, as from Node's clients
      const bin = await A.io.timeout(5000).emitWithAck("askbin", Buffer.from([1, 2, 3]),
        { b: Buffer.alloc(0) });
      assert.deepEqual([...bin].sort(byIdOrder), reg.map((e) => ({
        id: e.id, b: Buffer.from([1, 2, 3]), o: Buffer.alloc(0), n: [Buffer.from([1, 2, 3])],
      })).sort(byIdOrder));

      // an ack without arguments: undefined, as for Node's own clients
      const zero = await A.io.timeout(5000).emitWithAck("ask0");
      assert.equal(zero.length, reg.length);
      assert.ok(zero.every((v) => v === undefined), JSON.stringify(zero));

      for (const [rooms, except] of [[["vip"], []], [["odd"], [N[1].id]], [[], ["even", "hs"]],
        [[N[2].id], []]]) {
        const r = await A.io.to(rooms).except(except).timeout(5000).emitWithAck("ask", 2);
        assert.deepEqual(ids(r), ids(select(rooms, except)), `to(${rooms}).except(${except})`);
      }
      // no nginx member: each worker answers a client count of 0 at once,
      // so this completes instead of timing out
      assert.deepEqual(await B.io.to("bonly").timeout(5000).emitWithAck("ask", 3),
        [{ id: B1.id, x: 3 }]);
      assert.deepEqual(await A.io.to("bonly").timeout(5000).emitWithAck("ask", 4),
        [{ id: B1.id, x: 4 }]);
      assert.deepEqual(await A.io.to("ghost").timeout(5000).emitWithAck("ask", 5), []);
      // each client got each of these once
      await fence(A.io);
      for (const e of reg) {
        const n = 1 + [[["vip"], []], [["odd"], [N[1].id]], [[], ["even", "hs"]], [[N[2].id], []]]
          .filter(([rooms, except]) => select(rooms, except).includes(e)).length +
          (e === B1 ? 2 : 0);
        assert.equal(count(e, "ask"), n, `"ask" events of ${e.user}`);
        assert.equal(count(e, "ask0"), 1);
      }
    });

    await t.test("broadcast with acks: a client that acks twice is counted once", async () => {
      const ws = await session(nginx.port);
      try {
        const sid = await connectNsp(ws, "/");
        A.io.in(sid).socketsJoin("rawack");
        await eventually(async () => {
          assert.deepEqual(ids(await A.io.in("rawack").fetchSockets()), [sid]);
        }, "the raw socket in rawack");
        const from = ws.mark();
        const res = A.io.to("rawack").timeout(5000).emitWithAck("q", 1);
        const ev = await ws.nextText((s) => /^42\d+\["q",1\]$/.test(s), from);
        const id = Number(/^42(\d+)/.exec(ev)[1]);
        ws.sendText(`43${id}["first"]`);
        ws.sendText(`43${id}["second"]`);
        ws.sendText(`43${id + 1000}["unknown id"]`);
        assert.deepEqual(await res, ["first"]);
        await settle(pub, mon, 4);
        const auid = A.io.of("/").adapter.uid;
        const req = mon.requests((m) => m.type === 7 && m.uid === auid).pop();
        assert.deepEqual(req.msg.packet, { type: 2, data: ["q", 1], nsp: "/" });
        const acks = mon.responses(req.msg.requestId).filter((r) => r.msg.type === 9);
        assert.deepEqual(acks.map((r) => r.msg.packet), ["first"]);
        assert.ok(acks.every((r) => r.raw[0] !== 0x7b), "BROADCAST_ACK is msgpack");
        const counts = mon.responses(req.msg.requestId).filter((r) => r.msg.type === 8);
        assert.deepEqual(sorted(counts.map((r) => r.msg.clientCount)), [0, 0, 1]);
        for (const r of counts) {
          assert.match(r.raw.toString(),
            new RegExp(`^\\{"type":8,"requestId":"${req.msg.requestId}","clientCount":[01]\\}$`));
        }
      } finally {
        ws.sock.destroy();
      }
      await eventually(checkRooms, "the raw socket is gone");
    });

    await t.test("broadcast with acks: a client that leaves before it acks", async () => {
      const ws = await session(nginx.port);
      try {
        const sid = await connectNsp(ws, "/");
        A.io.in(sid).socketsJoin("rawgone");
        await eventually(async () => {
          assert.deepEqual(ids(await A.io.in("rawgone").fetchSockets()), [sid]);
        }, "the raw socket in rawgone");
        const from = ws.mark();
        const res = A.io.to("rawgone").timeout(1500).emitWithAck("q", 2);
        await ws.nextText((s) => /^42\d+\["q",2\]$/.test(s), from);
        ws.sock.destroy();
        // as for a Node client that never answers: the requester's timeout
        await assert.rejects(res, /operation has timed out/);
      } finally {
        ws.sock.destroy();
      }
      await eventually(checkRooms, "the raw socket is gone");
      // and the same worker still counts and forwards acks
      const r = await A.io.timeout(5000).emitWithAck("ask", "after");
      assert.deepEqual(ids(r), ids(reg));
    });

    await t.test("RemoteSocket: emit, emitWithAck, join, leave on each worker", async () => {
      const targets = [];
      for (const pid of workerPids) {
        const e = N.find((n) => n.pid === pid && n !== N[0] && !targets.includes(n));
        assert.ok(e, `an nginx socket on worker ${pid}`);
        targets.push(e);
        const [rs] = await A.io.in(e.id).fetchSockets();
        assert.equal(rs.id, e.id);

        const got = h.nextEvent(e.sock, "direct");
        rs.emit("direct", pid, { a: [1, "x"] });
        assert.deepEqual(await got, [pid, { a: [1, "x"] }]);

        assert.deepEqual(await rs.timeout(5000).emitWithAck("ask", "single"),
          { id: e.id, x: "single" });
        assert.equal(await rs.timeout(5000).emitWithAck("ask0"), undefined);

        rs.join("rj");
        modelJoin([e], ["rj"]);
        await eventually(checkRooms, `${e.id} in rj`);
        rs.join(["rj2", "rj3"]);
        modelJoin([e], ["rj2", "rj3"]);
        await eventually(checkRooms, `${e.id} in rj2, rj3`);
        rs.leave("rj");
        modelLeave([e], ["rj"]);
        await eventually(checkRooms, `${e.id} left rj`);
        rs.join("rj");                       // back at the end
        modelJoin([e], ["rj"]);
        await eventually(checkRooms, `${e.id} in rj again`);
      }
      // a broadcast to a room joined that way reaches the joined sockets
      await roomReady("rj");
      const got = Promise.all(targets.map((e) => h.nextEvent(e.sock, "to-rj")));
      A.io.to("rj").emit("to-rj");
      await got;
      await fence(A.io);
      for (const e of reg) {
        assert.equal(count(e, "direct"), targets.includes(e) ? 1 : 0, `"direct" to ${e.user}`);
        assert.equal(count(e, "to-rj"), targets.includes(e) ? 1 : 0, `"to-rj" to ${e.user}`);
      }
    });

    await t.test("socketsJoin / socketsLeave from a Node server", async () => {
      A.io.socketsJoin("j1");
      modelJoin(reg, ["j1"]);
      await eventually(checkRooms, "everyone in j1");

      A.io.in("even").socketsJoin(["j2", "j3"]);
      modelJoin(select(["even"]), ["j2", "j3"]);
      await eventually(checkRooms, "even in j2, j3");

      // broadcasts follow the new rooms
      const members = select(["j2"]);
      await roomReady("j2");
      const got = Promise.all(members.map((e) => h.nextEvent(e.sock, "to-j2")));
      A.io.to("j2").emit("to-j2");
      await got;
      await fence(A.io);
      for (const e of reg) assert.equal(count(e, "to-j2"), members.includes(e) ? 1 : 0);

      A.io.in("j2").except("vip").socketsLeave("j1");
      modelLeave(select(["j2"], ["vip"]), ["j1"]);
      await eventually(checkRooms, "j2 but vip left j1");

      // room names JSON has to escape, or that look like channel syntax
      const odd = ["é😀", "a\"b\\c", "line\nbreak", "#/#", "\u0001", "x".repeat(300)];
      A.io.in("vip").socketsJoin(odd);
      modelJoin(select(["vip"]), odd);
      await eventually(checkRooms, "vip in oddly named rooms");
      for (const r of odd) {
        await roomReady(r);
        const got = h.nextEvent(N[0].sock, "odd-room");
        A.io.to(r).emit("odd-room", r);
        assert.deepEqual(await got, [r]);
      }
      A.io.socketsLeave(odd);
      modelLeave(reg, odd);
      await eventually(checkRooms, "oddly named rooms left");

      A.io.in(N[1].id).socketsJoin("solo");
      modelJoin([N[1]], ["solo"]);
      await eventually(checkRooms, "a socket id as the room");

      B.io.except("odd").socketsJoin("fromB");
      modelJoin(select([], ["odd"]), ["fromB"]);
      await eventually(checkRooms, "from the other Node server");

      A.io.socketsLeave(["j1", "j2", "j3", "solo", "fromB"]);
      modelLeave(reg, ["j1", "j2", "j3", "solo", "fromB"]);
      await eventually(checkRooms, "everyone left");
    });

    await t.test("socketsJoin / socketsLeave from the emitter (no uid)", async () => {
      emitter.socketsJoin("e1");
      modelJoin(reg, ["e1"]);
      await eventually(checkRooms, "everyone in e1");

      emitter.in("odd").socketsJoin(["e2", "e3"]);
      modelJoin(select(["odd"]), ["e2", "e3"]);
      await eventually(checkRooms, "odd in e2, e3");

      emitter.in("e2").except(N[1].id).socketsLeave(["e1", "e2"]);
      modelLeave(select(["e2"], [N[1].id]), ["e1", "e2"]);
      await eventually(checkRooms, "e2 but one left e1, e2");

      const members = select(["e3"]);
      await roomReady("e3");
      const got = Promise.all(members.map((e) => h.nextEvent(e.sock, "to-e3")));
      emitter.to("e3").emit("to-e3");
      await got;
      await fence(emitter);
      for (const e of reg) assert.equal(count(e, "to-e3"), members.includes(e) ? 1 : 0);

      emitter.socketsLeave(["e1", "e2", "e3"]);
      modelLeave(reg, ["e1", "e2", "e3"]);
      await eventually(checkRooms, "everyone left");
    });

    await t.test("legacy SOCKETS and raw ALL_ROOMS / REMOTE_FETCH responses", async () => {
      for (const rooms of [["even"], [], ["vip", "bonly"], [N[4].id], ["ghost"]]) {
        const id = rid("s");
        await ask(pub, mon, { uid: UID, requestId: id, type: 0, rooms }, 4);
        await settle(pub, mon, 4);
        const rs = mon.responses(id);
        assert.equal(rs.length, 4, "one response per node");
        for (const r of rs) {
          assert.equal(r.channel, RESP);
          assert.match(r.raw.toString(), new RegExp(`^\\{"requestId":"${id}","sockets":\\[.*\\]\\}$`));
        }
        assert.deepEqual(sorted(rs.flatMap((r) => r.msg.sockets)), ids(select(rooms)),
          `SOCKETS ${JSON.stringify(rooms)}`);
      }

      const id = rid("ar");
      await ask(pub, mon, { uid: UID, requestId: id, type: 1 }, 4);
      await settle(pub, mon, 4);
      const rs = mon.responses(id);
      assert.equal(rs.length, 4);
      for (const r of rs) {
        assert.equal(r.channel, RESP);
        assert.match(r.raw.toString(), new RegExp(`^\\{"requestId":"${id}","rooms":\\[.*\\]\\}$`));
      }
      assert.deepEqual(sorted(new Set(rs.flatMap((r) => r.msg.rooms))),
        sorted(new Set(reg.flatMap((e) => [e.id, ...e.rooms]))));

      const fid = rid("f");
      await ask(pub, mon, { uid: UID, requestId: fid, type: 5, opts: { rooms: ["odd"], except: [] } }, 4);
      await settle(pub, mon, 4);
      const fs = mon.responses(fid);
      assert.equal(fs.length, 4);
      for (const r of fs) {
        assert.equal(r.channel, RESP);
        assert.deepEqual(Object.keys(r.msg), ["requestId", "sockets"]);
        for (const s of r.msg.sockets) assert.deepEqual(Object.keys(s), ["id", "handshake", "rooms", "data"]);
      }
      assert.deepEqual(sorted(fs.flatMap((r) => r.msg.sockets.map((s) => s.id))), ids(select(["odd"])));
      assert.equal(mon.msgs.filter((m) => m.channel === OWN_RESP).length, 0,
        "nothing on the requester's own channel: socketio_specific_response_channel is off");
    });

    await t.test("7.x per-socket requests: join, leave, disconnect by sid", async () => {
      // an nginx socket on each worker, and a Node socket as the reference
      const targets = [...workerPids.map((pid) => N.find((e) => e.pid === pid && e !== N[0])), B0];
      for (const e of targets) {
        for (const [type, change] of [[2, modelJoin], [3, modelLeave]]) {
          const id = rid("x");
          await ask(pub, mon, { uid: UID, requestId: id, type, sid: e.id, room: "x7" }, 1);
          await settle(pub, mon, 4);
          const rs = mon.responses(id);
          assert.equal(rs.length, 1, "only the owner answers");
          assert.equal(rs[0].channel, RESP);
          assert.equal(rs[0].raw.toString(), `{"requestId":"${id}"}`);
          change([e], ["x7"]);
          await checkRooms();
        }
      }

      // a sid nobody has: nobody answers, nothing changes
      for (const type of [2, 3, 4]) {
        const id = rid("x");
        await pub.publish(REQ, JSON.stringify({
          uid: UID, requestId: id, type, sid: "AAAAAAAAAAAAAAAAAAAA", room: "x7", close: true,
        }));
        await settle(pub, mon, 4);
        assert.equal(mon.responses(id).length, 0, `type ${type} for an unknown sid`);
      }
      await checkRooms();

      // disconnect, without and with close: an nginx client and a Node one
      for (const close of [false, true]) {
        for (const at of ["nginx", "nginx", "B"]) {
          const sock = h.client(servers[at].port, "/", { query: { user: "d7" } });
          extra.push(sock);
          await h.connected(sock);
          const reason = h.nextEvent(sock, "disconnect");
          const id = rid("x");
          await ask(pub, mon, { uid: UID, requestId: id, type: 4, sid: sock.id, close }, 1);
          assert.deepEqual((await reason)[0], "io server disconnect", `${at}, close ${close}`);
          await settle(pub, mon, 4);
          const rs = mon.responses(id);
          assert.equal(rs.length, 1);
          assert.equal(rs[0].channel, RESP);
          assert.equal(rs[0].raw.toString(), `{"requestId":"${id}"}`);
        }
      }
      await eventually(checkRooms, "the d7 sockets are gone");
    });

    await t.test("serverSideEmit: nginx is a server without listeners", async () => {
      const onB = [];
      const onA = [];
      B.io.on("sse", (...args) => onB.push(args));
      A.io.on("sse", (...args) => onA.push(args));
      B.io.on("sse-ack", (x, cb) => cb(`B:${x}`));

      // without ack: delivered to the Node servers' listeners, nothing else
      A.io.serverSideEmit("sse", "hi", 2);
      emitter.serverSideEmit("sse", "from-emitter");
      await h.waitFor(() => onB.length === 2 && onA.length === 1, { what: "sse on the Node servers" });
      assert.deepEqual(onB, [["hi", 2], ["from-emitter"]]);
      assert.deepEqual(onA, [["from-emitter"]]);

      // with ack: B answers, the two workers behave as a Node server with no
      // listener for the event: they never answer, so the requester (which
      // waits for NUMSUB - 1 = 3 answers) gets its timeout error with B's
      const [withB, none] = await Promise.allSettled([
        A.io.serverSideEmitWithAck("sse-ack", 1),
        A.io.serverSideEmitWithAck("sse-none", 2),
      ]);
      assert.equal(withB.status, "rejected");
      assert.equal(withB.reason.message, "timeout reached: only 1 responses received out of 3");
      assert.deepEqual(withB.reason.responses, ["B:1"]);
      assert.equal(none.status, "rejected");
      assert.equal(none.reason.message, "timeout reached: only 0 responses received out of 3");
      assert.deepEqual(none.reason.responses, []);

      // the wire: exactly B's one response, on the shared channel
      await settle(pub, mon, 4);
      const reqs = mon.requests((m) => m.type === 6 && m.requestId !== undefined);
      assert.equal(reqs.length, 2);
      const [r1, r2] = reqs.map((m) => mon.responses(m.msg.requestId));
      assert.deepEqual([r1.length, r2.length].sort(), [0, 1]);
      const one = r1.length ? r1[0] : r2[0];
      assert.equal(one.channel, RESP);
      assert.deepEqual(one.msg, { type: 6, requestId: one.msg.requestId, data: "B:1" });

      // and the workers still answer
      assert.deepEqual(ids(await A.io.fetchSockets()), ids(reg));
    });

    // a group of connections in room, each with "/" and "/chat": three to
    // nginx, one to B as the reference
    async function group(room) {
      const out = [];
      for (const at of ["nginx", "nginx", "nginx", "B"]) {
        const root = h.client(servers[at].port, "/", { query: { user: room, room }, auth: { ns: "/" } });
        const chat = root.io.socket("/chat", { auth: { ns: "/chat" } });
        extra.push(root, chat);
        await h.connectAll([root, chat]);
        out.push({ at, root, chat });
      }
      const rootIds = sorted(out.map((c) => c.root.id));
      const chatIds = sorted(out.map((c) => c.chat.id));
      // each namespace socket with its own id, auth, rooms and data
      for (const [nsp, list] of [["/", rootIds], ["/chat", chatIds]]) {
        const got = await A.io.of(nsp).in(room).fetchSockets();
        assert.deepEqual(ids(got), list, `${nsp} sockets in ${room}`);
        for (const rs of got) {
          assert.deepEqual(rs.handshake.auth, { ns: nsp });
          assert.deepEqual([...rs.rooms], [rs.id, room]);
          assert.equal(rs.data.user, room);
        }
      }
      return { out, rootIds, chatIds };
    }

    const disconnects = [
      ["io.in(room).disconnectSockets()", false, (room) => A.io.in(room).disconnectSockets()],
      ["io.in(room).disconnectSockets(true)", true, (room) => A.io.in(room).disconnectSockets(true)],
      ["emitter.in(room).disconnectSockets()", false, (room) => emitter.in(room).disconnectSockets()],
      ["emitter.in(room).disconnectSockets(true)", true,
        (room) => emitter.in(room).disconnectSockets(true)],
      ["RemoteSocket.disconnect()", false, async (room) => {
        for (const rs of await A.io.in(room).fetchSockets()) rs.disconnect();
      }],
      ["RemoteSocket.disconnect(true)", true, async (room) => {
        for (const rs of await A.io.in(room).fetchSockets()) rs.disconnect(true);
      }],
    ];
    let dc = 0;
    for (const [name, close, act] of disconnects) {
      await t.test(name, async () => {
        const room = `dc${++dc}`;
        const g = await group(room);
        const rootReasons = g.out.map((c) => h.nextEvent(c.root, "disconnect"));
        const chatReasons = close ? g.out.map((c) => h.nextEvent(c.chat, "disconnect")) : [];
        await act(room);
        for (const [reason] of await Promise.all(rootReasons)) {
          assert.equal(reason, "io server disconnect");
        }
        assert.deepEqual(await A.io.in(room).fetchSockets(), []);
        if (close) {
          // every namespace of the connection is told, as Node does, and the
          // connection closes
          const reasons = (await Promise.all(chatReasons)).map((r) => r[0]);
          const ref = reasons[g.out.findIndex((c) => c.at === "B")];
          assert.equal(ref, "io server disconnect");
          assert.deepEqual(reasons, reasons.map(() => ref));
          await eventually(() => {
            for (const c of g.out) assert.equal(c.root.io.engine.readyState, "closed");
          }, "the connections closed");
          assert.deepEqual(await A.io.of("/chat").in(room).fetchSockets(), []);
        } else {
          // the other namespace of the connection lives on
          const arrived = Promise.all(g.out.map((c) => h.nextEvent(c.chat, "still")));
          A.io.of("/chat").to(room).emit("still");
          await arrived;
          for (const c of g.out) {
            assert.equal(c.chat.connected, true);
            assert.equal(c.root.io.engine.readyState, "open");
          }
          assert.deepEqual(ids(await A.io.of("/chat").in(room).fetchSockets()), g.chatIds);
        }
        await checkRooms();
      });
    }

    await t.test("requests for /chat touch /chat sockets only; except(sid) spares that socket", async () => {
      const room = `dc${++dc}`;
      const g = await group(room);
      emitter.of("/chat").in(room).socketsJoin("cj");
      A.io.of("/chat").in(room).socketsJoin("cj2");
      await eventually(async () => {
        for (const rs of await A.io.of("/chat").in(room).fetchSockets()) {
          assert.deepEqual([...rs.rooms], [rs.id, room, "cj", "cj2"]);
        }
      }, "/chat sockets in cj, cj2");
      for (const rs of await A.io.in(room).fetchSockets()) {
        assert.deepEqual([...rs.rooms], [rs.id, room], "/ sockets unchanged");
      }
      assert.deepEqual(ids(await A.io.of("/chat").in("cj").fetchSockets()), g.chatIds);
      assert.deepEqual(await A.io.in("cj").fetchSockets(), []);

      const spared = g.out.find((c) => c.at === "nginx");
      const others = g.out.filter((c) => c !== spared);
      const reasons = others.map((c) => h.nextEvent(c.root, "disconnect"));
      A.io.in(room).except(spared.root.id).disconnectSockets(true);
      for (const [reason] of await Promise.all(reasons)) assert.equal(reason, "io server disconnect");
      assert.deepEqual(ids(await A.io.in(room).fetchSockets()), [spared.root.id]);
      assert.deepEqual(ids(await A.io.of("/chat").in(room).fetchSockets()), [spared.chat.id]);
      assert.equal(spared.root.connected, true);
      spared.root.close();
      await eventually(checkRooms, "the group is gone");
    });

    await t.test("disconnectSockets() to all, then emitter disconnectSockets(true) on /chat", async () => {
      const reasons = reg.map((e) => h.nextEvent(e.sock, "disconnect"));
      A.io.disconnectSockets();
      for (const [reason] of await Promise.all(reasons)) assert.equal(reason, "io server disconnect");
      assert.deepEqual(await A.io.fetchSockets(), []);

      // what is left: the /chat sockets of the groups that kept their connection
      const chats = extra.filter((s) => s.nsp === "/chat" && s.connected);
      assert.ok(chats.length > 0);
      const chatReasons = chats.map((s) => h.nextEvent(s, "disconnect"));
      emitter.of("/chat").disconnectSockets(true);
      for (const [reason] of await Promise.all(chatReasons)) assert.equal(reason, "io server disconnect");
      assert.deepEqual(await A.io.of("/chat").fetchSockets(), []);
      assert.deepEqual(sorted(nginx.workerPids()), workerPids, "no worker restarted");
      assert.doesNotMatch(nginx.errorLog(), /signal|exited on/);
    });
  });
}

// --------------------------------------- malformed requests; own channel

test("malformed requests are ignored; socketio_specific_response_channel on", async (t) => {
  let redis, nginx, C, emitter, mon, pub;
  const socks = [];
  t.after(async () => {
    h.closeAll(socks);
    if (pub) await h.closeRedisClient(pub);
    await h.shutdown(mon, emitter, C, nginx, redis);
  });

  redis = await h.Redis.start();
  const port = await h.freePort();
  nginx = await h.Nginx.start({
    workers: 2, port, conf: conf(port, redis.url, "socketio_specific_response_channel on;"),
  });
  const workerPids = sorted(nginx.workerPids());
  emitter = await h.startEmitter(redis.url);
  mon = await monitor(redis.url);
  pub = await publisher(redis.url);
  await redis.waitNumsub(REQ, 2);

  for (let i = 0; i < 8; i++) {
    const s = h.client(nginx.port, "/", { query: { user: `k${i}`, room: i % 2 ? "odd" : "even" } });
    s.on("ask", (x, cb) => cb({ id: s.id, x }));
    socks.push(s);
  }
  await h.connectAll(socks);
  const sids = sorted(socks.map((s) => s.id));

  await t.test("malformed and unknown requests: ignored, nginx keeps working", async () => {
    const deep = "[".repeat(100000) + "]".repeat(100000);
    const bad = [
      "{garbage", "{", "{}", "{\"type\":", "{\"type\":1,\"uid\":\"abcdef\",\"requestId\":\"m0\"",
      JSON.stringify({ uid: UID, requestId: "m1", type: 99 }),
      JSON.stringify({ uid: UID, requestId: "m2", type: "1" }),
      JSON.stringify({ uid: UID, requestId: "m3", type: -1 }),
      JSON.stringify({ uid: UID, requestId: "m4", type: 1.5 }),
      JSON.stringify({ uid: UID, requestId: "m5", type: null }),
      JSON.stringify({ type: 5 }),
      JSON.stringify({ uid: UID, requestId: "m6", type: 5, opts: null }),
      JSON.stringify({ uid: UID, requestId: "m7", type: 5, opts: { rooms: "x", except: 5 } }),
      JSON.stringify({ type: 2, opts: { rooms: [1, {}], except: [null] }, rooms: [null, [], { a: 1 }] }),
      JSON.stringify({ type: 3, opts: { rooms: [], except: [] }, rooms: "str" }),
      JSON.stringify({ type: 4, opts: { rooms: ["nobody"] }, close: "yes" }),
      JSON.stringify({ type: 2, opts: "x", rooms: ["r"] }),
      JSON.stringify({ uid: UID, requestId: "m8", type: 2, sid: 5, room: {} }),
      JSON.stringify({ uid: UID, requestId: "m9", type: 4, sid: null }),
      JSON.stringify({ uid: UID, requestId: { a: 1 }, type: 1 }),
      JSON.stringify({ uid: UID, requestId: "m10", type: 6, data: "notarray" }),
      JSON.stringify({ uid: UID, type: 6, data: [] }),
      JSON.stringify({ uid: UID, requestId: "m11", type: 6, data: [{}] }),
      `{"type":1,"uid":"abcdef","x":${deep}}`,
      `{"type":1,"uid":"\\ud800","requestId":"m12"`,
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      Buffer.from([0xc1]), Buffer.from([0x93, 0x01]), Buffer.from([0xde, 0xff, 0xff]),
      Buffer.from([0x87]), Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]),
      Buffer.alloc(100000, 0x91),
      Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x07]),
      notepack.encode({ uid: UID, requestId: "m13", type: 7 }),
      notepack.encode({ uid: UID, requestId: "m14", type: 7, packet: { type: 2, data: "x" },
        opts: { rooms: [], except: [] } }),
      notepack.encode({ uid: UID, requestId: "m15", type: 7, packet: { type: 2, data: [1] },
        opts: { rooms: "x" } }),
      notepack.encode({ uid: UID, requestId: "m16", type: 7, packet: null, opts: null }),
      notepack.encode({ uid: UID, requestId: "m17", type: 7, packet: { type: 2, data: ["ask"] },
        opts: { rooms: [{}], except: [1.5], flags: { timeout: "x" } } }).subarray(0, 30),
      notepack.encode(["not", "a", "map"]),
      notepack.encode({ uid: UID, requestId: "m18", type: 5, opts: { rooms: [], except: [] } }),
      Buffer.from([0x00, 0x01, 0x02]), Buffer.alloc(0),
    ];
    for (const m of bad) await pub.publish(REQ, m);
    await settle(pub, mon, 2);

    // requests no Node server answers get no answer here either
    for (const id of ["m0", "m1", "m2", "m3", "m4", "m5", "m12"]) {
      assert.equal(mon.responses(id).length, 0, `a response to ${id}`);
    }

    // the same on the response channels the workers listen to: the shared
    // one and each worker's own
    const own = await redis.command("PUBSUB", "CHANNELS", `${RESP}?*#`);
    assert.equal(own.length, 2, `the workers' own response channels: ${own}`);
    for (const ch of [RESP, ...own]) {
      for (const m of bad) await pub.publish(ch, m);
    }
    await settle(pub, mon, 2);

    // still answering, still delivering, nobody restarted
    const id = rid("after");
    const rs = await ask(pub, mon, { uid: UID, requestId: id, type: 5, opts: { rooms: [], except: [] } }, 2);
    assert.deepEqual(sorted(rs.flatMap((r) => r.msg.sockets.map((s) => s.id))), sids);
    for (const s of socks) assert.equal(s.connected, true);
    const arrived = Promise.all(socks.map((s) => h.nextEvent(s, "alive")));
    emitter.emit("alive");
    await arrived;
    assert.deepEqual(sorted(nginx.workerPids()), workerPids);
    assert.doesNotMatch(nginx.errorLog(), /signal|exited on/);
  });

  await t.test("responses go to the requester's channel", async () => {
    C = await h.startNodeServer({ redis: redis.url });
    await redis.waitNumsub(REQ, 3);
    const cuid = C.io.of("/").adapter.uid;

    // raw: the workers answer on socket.io-response#/#abcdef#, C (option
    // off) on the shared channel
    const id = rid("sp");
    await ask(pub, mon, { uid: UID, requestId: id, type: 1 }, 3);
    await settle(pub, mon, 3);
    const rs = mon.responses(id);
    assert.deepEqual(rs.map((r) => r.channel).sort(), [RESP, OWN_RESP, OWN_RESP].sort());

    const jid = rid("sp");
    await ask(pub, mon, { uid: UID, requestId: jid, type: 2, sid: socks[0].id, room: "sp" }, 1);
    await settle(pub, mon, 3);
    const js = mon.responses(jid);
    assert.equal(js.length, 1);
    assert.equal(js[0].channel, OWN_RESP);
    assert.equal(js[0].raw.toString(), `{"requestId":"${jid}"}`);

    // a Node requester gets its answers on its own channel
    const all = await C.io.fetchSockets();
    assert.deepEqual(ids(all), sids);
    assert.deepEqual([...all.find((s) => s.id === socks[0].id).rooms], [socks[0].id, "even", "sp"]);
    const rooms = await C.io.of("/").adapter.allRooms();
    assert.deepEqual(sorted(rooms), sorted(new Set([...sids, "even", "odd", "sp"])));
    const acks = await C.io.timeout(5000).emitWithAck("ask", 1);
    assert.deepEqual(ids(acks), sids);

    const fetches = mon.requests((m) => m.uid === cuid && m.type === 5);
    const bcast = mon.requests((m) => m.uid === cuid && m.type === 7);
    assert.equal(fetches.length, 1);
    assert.equal(bcast.length, 1);
    // C has them all; the monitor, another connection, sees them soon
    const fr = await h.waitFor(() => {
      const r = mon.responses(fetches[0].msg.requestId);
      return r.length >= 2 && r;
    }, { what: "the fetch responses on the monitor" });
    await settle(pub, mon, 3);
    assert.equal(fr.length, 2);
    for (const r of fr) assert.equal(r.channel, `${RESP}${cuid}#`);
    await h.waitFor(() => mon.responses(bcast[0].msg.requestId).length >= 2 + socks.length,
      { what: "the ack responses on the monitor" });
    await settle(pub, mon, 3);
    const br = mon.responses(bcast[0].msg.requestId);
    assert.deepEqual(br.map((r) => r.msg.type).sort(), [8, 8, ...socks.map(() => 9)]);
    for (const r of br) assert.equal(r.channel, `${RESP}${cuid}#`);
    const counts = br.filter((r) => r.msg.type === 8).map((r) => r.msg.clientCount);
    assert.equal(counts[0] + counts[1], socks.length);
  });
});

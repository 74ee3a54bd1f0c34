// socketio_status and the shared memory zone behind it: the numbers of
// the JSON view against the clients actually connected (spread over two
// workers with reuseport), the Prometheus text against its grammar and
// against the JSON, and the zone through a kill -9 of a worker and
// through nginx -s reload.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const h = require("../lib/harness");
const { RawWs } = require("../lib/rawws");

// ------------------------------------------------------------- helpers

// nginx.conf's http{} body: two workers, each with its own listening
// socket (reuseport), so that clients spread over both
function confBody(port, redisUrl, extra = {}) {
  return `
    socketio_redis ${redisUrl};
    ${extra.http || ""}
    server {
        listen 127.0.0.1:${port} reuseport;

        location /socket.io/ {
            socketio;
            socketio_namespaces / /chat;
            socketio_join $arg_a $arg_b;
            # no heartbeat traffic while counters are compared
            socketio_ping_interval 600s;
            socketio_ping_timeout 600s;
        }

        location = /status {
            socketio_status;
        }

        ${extra.locations || ""}
    }`;
}

async function startNginx(redis, extra = {}) {
  const port = await h.freePort();
  const opts = { port, workers: 2, conf: confBody(port, redis.url, extra) };
  const nginx = await h.Nginx.start(opts);
  nginx.confFor = (more) => confBody(port, redis.url, more);
  return nginx;
}

// one request on a connection of its own: no keepalive connection is left
// to a worker that a test kills or reloads
function get(port, path, method = "GET") {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent: false },
      (res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => resolve({
          status: res.statusCode, headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }));
      });
    req.on("error", reject);
    req.end();
  });
}

async function status(port, query = "") {
  const r = await get(port, `/status${query}`);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers["content-type"], /^application\/json/);
  return JSON.parse(r.body);
}

// A client: one connection with a socket in each namespace of nsps, in
// rooms a and b (socketio_join $arg_a $arg_b).
function connectClient(port, nsps, rooms, opts = {}) {
  const { Manager } = require("socket.io-client");
  const query = {};
  if (rooms[0]) query.a = rooms[0];
  if (rooms[1]) query.b = rooms[1];
  const manager = new Manager(`http://127.0.0.1:${port}`, {
    transports: ["websocket"], reconnection: false, query, ...opts,
  });
  const sockets = nsps.map((n) => manager.socket(n));
  return { nsps, rooms, manager, sockets };
}

async function connectClients(list) {
  await Promise.all(list.flatMap((c) => c.sockets.map((s) => h.connected(s))));
  return list;
}

function closeClients(list) {
  for (const c of list) {
    for (const s of c.sockets) s.close();
  }
}

// what the status must say about a set of connected clients
function expected(list) {
  const e = { connections: list.length, sockets: 0, namespaces: {} };
  for (const c of list) {
    for (const n of c.nsps) {
      const ns = e.namespaces[n] ||= { sockets: 0, rooms: {} };
      ns.sockets++;
      e.sockets++;
      for (const r of c.rooms.filter(Boolean)) ns.rooms[r] = (ns.rooms[r] || 0) + 1;
    }
  }
  return e;
}

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

// The status matches the clients exactly, and is consistent with itself:
// per-worker counts add up to the totals and to the namespace view.
function checkStatus(s, list, nsps = ["/", "/chat"]) {
  const e = expected(list);

  assert.equal(s.totals.connections, e.connections, "connections");
  assert.equal(s.totals.sockets, e.sockets, "sockets");
  assert.equal(s.totals.workers, s.workers.length);

  for (const k of Object.keys(s.totals)) {
    if (k === "workers") continue;
    assert.equal(s.workers.reduce((a, w) => a + w[k], 0), s.totals[k], `totals.${k}`);
  }

  assert.deepEqual(Object.keys(s.namespaces).sort(), [...nsps].sort());

  for (const n of nsps) {
    const ns = s.namespaces[n];
    const en = e.namespaces[n] || { sockets: 0, rooms: {} };
    assert.equal(ns.sockets, en.sockets, `sockets of ${n}`);
    assert.equal(sum(ns.workers), ns.sockets, `workers of ${n}`);

    const members = Object.fromEntries(Object.entries(ns.rooms)
      .map(([r, v]) => [r, v.members]));
    assert.deepEqual(members, en.rooms, `rooms of ${n}`);
    assert.equal(ns.room_count, Object.keys(en.rooms).length);

    for (const [r, v] of Object.entries(ns.rooms)) {
      assert.equal(sum(v.workers), v.members, `workers of room ${r}`);
      for (const w of Object.keys(v.workers)) {
        assert.ok(w in ns.workers, `room ${r} on worker ${w}`);
      }
    }
  }

  // a worker's sockets are its sockets in all namespaces (the namespace
  // view adds up an old worker and its successor of a reload)
  const byNumber = {};
  for (const w of s.workers) byNumber[w.worker] = (byNumber[w.worker] || 0) + w.sockets;
  for (const [w, n] of Object.entries(byNumber)) {
    const inNsps = nsps.reduce((a, x) => a + (s.namespaces[x].workers[w] || 0), 0);
    assert.equal(n, inNsps, `sockets of worker ${w}`);
  }
}

function waitStatus(port, pred, what) {
  return h.waitFor(async () => {
    const s = await status(port);
    return pred(s) ? s : null;
  }, { timeout: 20000, what });
}

// -------------------------------------------------- Prometheus grammar

// The text exposition format 0.0.4, as a stock scraper reads it
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const VALUE = "(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const LABELS = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

function unescapeLabel(v) {
  return v.replace(/\\(["\\n])/g, (_, c) => (c === "n" ? "\n" : c));
}

// -> Map "name{k="v",...}" (labels sorted) -> value; families: name -> type
function parsePrometheus(text) {
  const families = new Map();
  const helps = new Set();
  const samples = new Map();
  let current = null;

  assert.ok(text.endsWith("\n"), "the text ends with a newline");

  for (const line of text.slice(0, -1).split("\n")) {
    let m;
    if ((m = HELP.exec(line))) {
      assert.ok(!helps.has(m[1]), `one HELP for ${m[1]}`);
      helps.add(m[1]);
      continue;
    }
    if ((m = TYPE.exec(line))) {
      assert.ok(!families.has(m[1]), `one TYPE for ${m[1]}`);
      assert.ok(helps.has(m[1]), `HELP before TYPE for ${m[1]}`);
      families.set(m[1], m[2]);
      current = m[1];
      continue;
    }
    m = SAMPLE.exec(line);
    assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, value] = m;

    // a family's samples come together, after its TYPE
    assert.equal(name, current, `${name} in its family`);
    assert.match(name, /^socketio_/);
    if (families.get(name) === "counter") assert.match(name, /_total$/);
    else assert.doesNotMatch(name, /_total$/);

    const labels = {};
    for (const l of (labelText || "").matchAll(LABELS)) {
      labels[l[1]] = unescapeLabel(l[2]);
    }
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!samples.has(key), `one sample for ${key}`);
    samples.set(key, Number(value));
  }

  for (const n of helps) assert.ok(families.has(n), `TYPE for ${n}`);
  return { families, samples };
}

function sample(p, name, labels = {}) {
  return p.samples.get(name + JSON.stringify(Object.entries(labels).sort()));
}

// JSON key -> metric
const METRICS = {
  connections: "socketio_connections",
  connections_total: "socketio_connections_accepted_total",
  messages_in: "socketio_messages_received_total",
  messages_out: "socketio_messages_sent_total",
  bytes_in: "socketio_received_bytes_total",
  bytes_out: "socketio_sent_bytes_total",
  broadcasts: "socketio_broadcasts_total",
  dropped_volatile: "socketio_volatile_dropped_total",
  slow_consumers: "socketio_slow_consumers_total",
  unrouted_events: "socketio_unrouted_events_total",
  protocol_errors: "socketio_protocol_errors_total",
  redis_connected: "socketio_redis_connected",
  redis_reconnects: "socketio_redis_reconnects_total",
  redis_messages: "socketio_redis_messages_total",
  redis_malformed: "socketio_redis_malformed_total",
  redis_requests: "socketio_redis_requests_total",
  redis_responses: "socketio_redis_responses_total",
  rooms_unindexed: "socketio_rooms_unindexed_total",
};

function checkPrometheusAgainstJson(p, s) {
  assert.equal(sample(p, "socketio_workers"), s.workers.length);

  for (const w of s.workers) {
    assert.equal(sample(p, "socketio_worker_info", { worker: String(w.worker), pid: String(w.pid) }), 1);
  }

  const byWorker = {};
  for (const w of s.workers) {
    const acc = byWorker[w.worker] ||= {};
    for (const k of Object.keys(METRICS)) acc[k] = (acc[k] || 0) + w[k];
  }

  for (const [k, metric] of Object.entries(METRICS)) {
    assert.ok(p.families.has(metric), `family ${metric}`);
    for (const [w, acc] of Object.entries(byWorker)) {
      assert.equal(sample(p, metric, { worker: w }), acc[k], `${metric}{worker="${w}"}`);
    }
  }

  for (const [n, ns] of Object.entries(s.namespaces)) {
    for (const [w, c] of Object.entries(ns.workers)) {
      assert.equal(sample(p, "socketio_sockets", { namespace: n, worker: w }), c);
    }
    assert.equal(sample(p, "socketio_rooms", { namespace: n }), ns.room_count);
    for (const [r, v] of Object.entries(ns.rooms)) {
      assert.equal(sample(p, "socketio_room_members", { namespace: n, room: r }), v.members,
        `members of ${n} ${r}`);
    }
  }

  // nothing the JSON does not have
  const rooms = [...p.samples.keys()].filter((k) => k.startsWith("socketio_room_members"));
  assert.equal(rooms.length,
    Object.values(s.namespaces).reduce((a, ns) => a + Object.keys(ns.rooms).length, 0));
}

// the victim of a kill -9 leaves alert lines; nothing else may
function assertCleanLogExcept(nginx, pid) {
  const bad = nginx.errorLog().split("\n").filter((l) =>
    /\[(alert|crit|emerg)\]|exited on signal|segfault|open socket .* left|AddressSanitizer/.test(l)
    && !new RegExp(`\\b${pid}\\b.*exited on signal 9|was locked by ${pid}\\b`).test(l));
  assert.deepEqual(bad, []);
}

// -------------------------------------------------------------- tests

test("status: exact counts over two workers, JSON and Prometheus agree", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await startNginx(redis);
  let emitter = null;
  let node = null;
  t.after(async () => {
    if (emitter) await emitter.close();
    if (node) await node.close();
    await nginx.stop();
    nginx.assertCleanLog();
    await redis.stop();
  });

  await redis.waitNumsub("socket.io-request#/#", 2);

  // before any client: both workers, nothing else
  let s = await status(nginx.port);
  assert.equal(s.generation, 1);
  assert.equal(s.workers.length, 2);
  assert.deepEqual(s.workers.map((w) => w.worker), [0, 1]);
  assert.deepEqual(s.workers.map((w) => w.pid).sort(), nginx.workerPids().sort());
  for (const w of s.workers) {
    assert.equal(w.exiting, false);
    assert.equal(w.connections, 0);
  }
  checkStatus(s, []);

  const clients = [];
  for (let i = 0; i < 8; i++) clients.push(connectClient(nginx.port, ["/"], ["lobby", "team-1"]));
  for (let i = 0; i < 6; i++) clients.push(connectClient(nginx.port, ["/"], ["lobby", "team-2"]));
  // one connection, a socket in each namespace
  for (let i = 0; i < 4; i++) clients.push(connectClient(nginx.port, ["/", "/chat"], ["vip"]));
  for (let i = 0; i < 2; i++) clients.push(connectClient(nginx.port, ["/chat"], ["vip", "team-1"]));
  t.after(() => closeClients(clients));
  await connectClients(clients);

  s = await status(nginx.port);
  checkStatus(s, clients);
  assert.equal(s.totals.connections, 20);
  assert.equal(s.totals.sockets, 24);
  assert.equal(s.namespaces["/"].rooms.lobby.members, 14);
  assert.equal(s.namespaces["/chat"].rooms.vip.members, 6);
  assert.ok(s.workers.every((w) => w.connections > 0), "clients on both workers");
  assert.equal(s.totals.redis_connected, 2);

  // the largest rooms first; ?rooms=N keeps the N largest
  assert.deepEqual(Object.keys(s.namespaces["/"].rooms), ["lobby", "team-1", "team-2", "vip"]);
  const top = await status(nginx.port, "?rooms=1");
  assert.deepEqual(Object.keys(top.namespaces["/"].rooms), ["lobby"]);
  assert.equal(top.namespaces["/"].room_count, 4);

  // counters: one broadcast to "lobby" is 14 messages out, and each
  // worker hears it from Redis once; an event nothing routes is counted
  const before = s.totals;
  emitter = await h.startEmitter(redis.url);
  const got = Promise.all(clients.filter((c) => c.rooms.includes("lobby"))
    .map((c) => h.nextEvent(c.sockets[0], "news")));
  emitter.to("lobby").emit("news", 1);
  await got;
  const ack = await clients[0].sockets[0].timeout(10000).emitWithAck("hello", 1);
  assert.deepEqual(ack, { error: "event not routed" });

  s = await waitStatus(nginx.port, (x) => x.totals.unrouted_events === before.unrouted_events + 1,
    "the unrouted event counted");
  assert.equal(s.totals.messages_out, before.messages_out + 14 + 1);
  assert.equal(s.totals.redis_messages, before.redis_messages + 2);
  assert.ok(s.totals.bytes_out > before.bytes_out);
  assert.ok(s.totals.messages_in > before.messages_in);

  // Prometheus: the grammar, then the same numbers
  const r = await get(nginx.port, "/status?format=prometheus");
  assert.equal(r.status, 200);
  assert.match(r.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  const p = parsePrometheus(r.body);
  s = await status(nginx.port);
  checkPrometheusAgainstJson(p, s);
  assert.equal(p.families.get("socketio_connections"), "gauge");
  assert.equal(p.families.get("socketio_connections_accepted_total"), "counter");
  assert.equal(p.families.get("socketio_room_members"), "gauge");

  const p1 = parsePrometheus((await get(nginx.port, "/status?format=prometheus&rooms=2")).body);
  assert.equal([...p1.samples.keys()].filter((k) => k.startsWith("socketio_room_members")).length,
    2 + 2);

  // a cluster request from Node: each worker answers it, and counts it
  node = await h.startNodeServer({ redis: redis.url, namespaces: ["/", "/chat"] });
  await redis.waitNumsub("socket.io-request#/#", 3);
  const b2 = (await status(nginx.port)).totals;
  const fetched = await node.io.fetchSockets();
  assert.equal(fetched.length, s.namespaces["/"].sockets);
  s = await waitStatus(nginx.port, (x) => x.totals.redis_responses === b2.redis_responses + 2,
    "the responses counted");
  assert.equal(s.totals.redis_requests, b2.redis_requests + 2);

  // every client gone: the counts go back, the counters stay
  closeClients(clients);
  s = await waitStatus(nginx.port, (x) => x.totals.connections === 0 && x.totals.sockets === 0,
    "no connections");
  checkStatus(s, []);
  assert.equal(s.totals.connections_total, 20);
  for (const n of ["/", "/chat"]) assert.deepEqual(s.namespaces[n].rooms, {});
});

test("status: room names escaped in JSON and in Prometheus labels", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await startNginx(redis);
  t.after(() => h.shutdown(nginx, redis));

  // $arg_a is the raw query: a quote, a backslash and UTF-8 as sent
  const raw = await RawWs.connect(nginx.port,
    { query: 'EIO=4&transport=websocket&a=q"u\\o\u00e9\u2603' });
  t.after(() => raw.destroy());
  await raw.text(/^0\{/);
  raw.sendText("40");
  await raw.text(/^40\{/);

  const name = 'q"u\\o\u00e9\u2603';
  const s = await status(nginx.port);
  assert.deepEqual(Object.keys(s.namespaces["/"].rooms), [name]);
  assert.equal(s.namespaces["/"].rooms[name].members, 1);

  const r = await get(nginx.port, "/status?format=prometheus");
  assert.ok(r.body.includes('room="q\\"u\\\\o\u00e9\u2603"} 1\n'), r.body);
  checkPrometheusAgainstJson(parsePrometheus(r.body), s);
});

test("status: methods and arguments; without a socketio location, an empty view", async (t) => {
  const port = await h.freePort();
  const nginx = await h.Nginx.start({
    port, workers: 1,
    conf: `server {
        listen 127.0.0.1:${port};
        location = /status { socketio_status; }
    }`,
  });
  t.after(async () => {
    await nginx.stop();
    nginx.assertCleanLog();
  });

  assert.equal((await get(port, "/status", "POST")).status, 405);
  assert.equal((await get(port, "/status?format=xml")).status, 400);
  assert.equal((await get(port, "/status?rooms=many")).status, 400);

  const head = await get(port, "/status", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");

  const s = await status(port, "?format=json");
  assert.deepEqual(s.workers, []);
  assert.deepEqual(s.namespaces, {});
  assert.equal(s.totals.workers, 0);
  assert.equal(s.totals.connections, 0);

  const p = parsePrometheus((await get(port, "/status?format=prometheus")).body);
  assert.equal(sample(p, "socketio_workers"), 0);
});

test("status: socketio_shm_size below its minimum is refused at its line", () => {
  const { spawnSync } = require("node:child_process");
  const fs = require("node:fs");
  const path = require("node:path");
  const dir = h.tmpdir("sio-shm-");
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(conf, `load_module ${h.MODULE};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { }
http {
    socketio_shm_size 100k;
    server { listen 127.0.0.1:1; location /socket.io/ { socketio; } }
}
`);
  const r = spawnSync(h.NGINX, ["-t", "-p", dir, "-c", conf], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /socketio_shm_size must be at least \d+k in .*nginx\.conf:6/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("status: kill -9 of a worker, its successor clears the slot, counts recover", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await startNginx(redis);
  let victim = null;
  t.after(async () => {
    await nginx.stop();
    assertCleanLogExcept(nginx, victim && victim.pid);
    await redis.stop();
  });

  await redis.waitNumsub("socket.io-request#/#", 2);

  const clients = [];
  for (let i = 0; i < 16; i++) clients.push(connectClient(nginx.port, ["/", "/chat"], ["k"]));
  t.after(() => closeClients(clients));
  await connectClients(clients);

  let s = await status(nginx.port);
  checkStatus(s, clients);
  victim = s.workers.find((w) => w.connections > 0);
  assert.ok(nginx.workerPids().includes(victim.pid));

  const dropped = [];
  for (const c of clients) {
    c.sockets[0].once("disconnect", () => dropped.push(c));
  }

  process.kill(victim.pid, "SIGKILL");

  await h.waitFor(() => h.processGone(victim.pid), { what: "the victim gone" });
  await h.waitFor(() => dropped.length === victim.connections,
    { timeout: 20000, what: "the victim's clients disconnected" });
  await h.waitFor(() => nginx.workerPids().length === 2, { what: "a successor" });

  const alive = clients.filter((c) => !dropped.includes(c));

  // the dead worker is not counted; its successor holds its number
  s = await waitStatus(nginx.port, (x) => x.workers.length === 2
    && x.workers.every((w) => w.pid !== victim.pid)
    && x.workers.some((w) => w.worker === victim.worker),
  "the successor in the status");
  checkStatus(s, alive);
  const successor = s.workers.find((w) => w.worker === victim.worker);
  assert.equal(successor.connections, 0);
  assert.equal(successor.connections_total, 0);

  assert.match(nginx.errorLog(),
    new RegExp(`socketio: cleared the slot of worker ${victim.worker} pid ${victim.pid}: restarted`));

  // the dropped clients come back: every count exact, nothing twice
  const back = dropped.map(() => connectClient(nginx.port, ["/", "/chat"], ["k"]));
  t.after(() => closeClients(back));
  await connectClients(back);
  const all = [...alive, ...back];

  s = await waitStatus(nginx.port, (x) => x.totals.connections === all.length,
    "every client back");
  checkStatus(s, all);
  assert.equal(s.namespaces["/"].rooms.k.members, 16);
  assert.equal(s.namespaces["/chat"].rooms.k.members, 16);
  assert.deepEqual(s.workers.map((w) => w.pid).sort(), nginx.workerPids().sort());
  checkPrometheusAgainstJson(parsePrometheus((await get(nginx.port, "/status?format=prometheus")).body),
    await status(nginx.port));
});

// an HTTP backend that answers only when told: a request to it keeps an
// old worker shutting down after a reload
async function startSlowBackend() {
  const held = [];
  let arrived = 0;
  const srv = http.createServer((req, res) => { arrived++; held.push(res); });
  const port = await h.freePort();
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  return {
    port,
    arrived: () => arrived,
    release() {
      for (const res of held.splice(0)) res.end("done\n");
    },
    close() {
      this.release();
      srv.closeAllConnections();
      return new Promise((r) => srv.close(r));
    },
  };
}

test("status: the zone survives nginx -s reload; old workers keep their slots until they exit", async (t) => {
  const redis = await h.Redis.start();
  const slow = await startSlowBackend();
  const slowLocation = `location = /slow {
            proxy_pass http://127.0.0.1:${slow.port};
            proxy_read_timeout 60s;
        }`;
  const nginx = await startNginx(redis, { locations: slowLocation });
  t.after(async () => {
    await nginx.stop();
    nginx.assertCleanLog();
    await slow.close();
    await redis.stop();
  });

  await redis.waitNumsub("socket.io-request#/#", 2);

  const clients = [];
  for (let i = 0; i < 10; i++) {
    clients.push(connectClient(nginx.port, ["/"], ["lobby"], {
      reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200,
    }));
  }
  t.after(() => closeClients(clients));
  await connectClients(clients);

  let s = await status(nginx.port);
  checkStatus(s, clients);
  assert.equal(s.generation, 1);
  const old = nginx.workerPids();

  // one old worker will have a request in progress when the reload comes
  const pending = get(nginx.port, "/slow");
  await h.waitFor(() => slow.arrived() === 1, { what: "the slow request at the backend" });

  const reconnected = Promise.all(clients.map((c) =>
    new Promise((resolve) => c.manager.once("reconnect", resolve))));

  await nginx.reload();
  await reconnected;

  // new workers on the same zone, next to the old worker that waits
  s = await waitStatus(nginx.port, (x) => x.generation === 2
    && x.workers.filter((w) => !w.exiting).length === 2
    && x.workers.filter((w) => w.exiting).length === 1
    && x.totals.connections === clients.length,
  "two new workers and one old one, every client back");

  const lingering = s.workers.find((w) => w.exiting);
  assert.ok(old.includes(lingering.pid));
  assert.ok(!h.processGone(lingering.pid));
  assert.equal(lingering.connections, 0);
  assert.equal(lingering.sockets, 0);
  for (const w of s.workers.filter((x) => !x.exiting)) assert.ok(!old.includes(w.pid));

  // the new workers' counters are their own, from zero
  const fresh = s.workers.filter((w) => !w.exiting);
  assert.equal(fresh.reduce((a, w) => a + w.connections_total, 0), clients.length);
  checkStatus(s, clients);
  checkPrometheusAgainstJson(parsePrometheus((await get(nginx.port, "/status?format=prometheus")).body),
    await status(nginx.port));

  // the old worker exits when its request is done: its slot goes with it
  slow.release();
  assert.equal((await pending).status, 200);
  await h.waitFor(() => h.processGone(lingering.pid), { what: "the old worker to exit" });

  s = await waitStatus(nginx.port, (x) => x.workers.length === 2, "the old slot released");
  assert.ok(s.workers.every((w) => !w.exiting && !old.includes(w.pid)));
  assert.deepEqual(s.workers.map((w) => w.pid).sort(), nginx.workerPids().sort());
  checkStatus(s, clients);
  assert.equal(s.namespaces["/"].rooms.lobby.members, 10);

  // a new size is a new zone: it starts over, the old workers not in it
  const old2 = nginx.workerPids();
  const again = Promise.all(clients.map((c) =>
    new Promise((resolve) => c.manager.once("reconnect", resolve))));
  await nginx.reload({ conf: nginx.confFor({ http: "socketio_shm_size 8m;", locations: slowLocation }) });
  await again;
  await h.waitFor(() => old2.every(h.processGone), { what: "the old workers to exit" });

  s = await waitStatus(nginx.port, (x) => x.totals.connections === clients.length,
    "every client back on the new zone");
  assert.equal(s.generation, 1);
  assert.deepEqual(s.workers.map((w) => w.pid).sort(), nginx.workerPids().sort());
  checkStatus(s, clients);
});

test("status: a full zone leaves rooms out of the index, logged once, and nothing else", async (t) => {
  const redis = await h.Redis.start();
  // the smallest zone: the worker table and little room for rooms
  const nginx = await startNginx(redis, { http: "socketio_shm_size 512k;" });
  let emitter = null;
  t.after(async () => {
    if (emitter) await emitter.close();
    await nginx.stop();
    nginx.assertCleanLog();
    await redis.stop();
  });

  await redis.waitNumsub("socket.io-request#/#", 2);

  // $arg_a is split on commas: 500 rooms a connection
  const raws = [];
  const rooms = [];
  for (let i = 0; i < 8; i++) {
    const names = Array.from({ length: 500 }, (_, j) => `room-${i}-${j}`);
    rooms.push(...names);
    const r = await RawWs.connect(nginx.port,
      { query: `EIO=4&transport=websocket&a=${names.join(",")}` });
    raws.push(r);
    await r.text(/^0\{/);
    r.sendText("40");
    await r.text(/^40\{/);
  }
  t.after(() => raws.forEach((r) => r.destroy()));

  let s = await status(nginx.port);
  assert.equal(s.totals.connections, 8);
  assert.ok(s.totals.rooms_unindexed > 0, "the zone filled up");
  assert.ok(s.namespaces["/"].room_count > 0, "rooms indexed until then");
  assert.equal(s.namespaces["/"].room_count + s.totals.rooms_unindexed, rooms.length);
  for (const [name, v] of Object.entries(s.namespaces["/"].rooms)) {
    assert.ok(rooms.includes(name));
    assert.equal(v.members, 1);
  }
  const full = nginx.errorLog().split("\n").filter((l) => /shared memory zone is full/.test(l));
  assert.ok(full.length >= 1 && full.length <= 2, full.join("\n"));

  // the sockets are whole: a broadcast reaches every room, indexed or not
  emitter = await h.startEmitter(redis.url);
  const last = rooms.slice(-1)[0];
  emitter.to(rooms[0]).to(last).emit("hi", 1);
  await raws[0].text(/^42\["hi",1\]$/);
  await raws[7].text(/^42\["hi",1\]$/);

  // gone, they free the zone: new rooms are indexed again
  for (const r of raws) r.destroy();
  s = await waitStatus(nginx.port, (x) => x.totals.connections === 0, "no connections");
  assert.equal(s.namespaces["/"].room_count, 0);

  const c = connectClient(nginx.port, ["/"], ["again"]);
  t.after(() => closeClients([c]));
  await connectClients([c]);
  s = await status(nginx.port);
  assert.equal(s.namespaces["/"].rooms.again.members, 1);
});

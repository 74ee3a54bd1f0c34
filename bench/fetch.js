// How long fetchSockets() takes from a Node.js server when nginx holds
// the sockets: 2 Node servers with the classic Redis adapter, nginx with
// 4 workers (each its own cluster node), N clients on nginx.
//
//   node bench/fetch.js [CLIENTS]        (default 10000)
//
// Prints the median and the spread of 9 calls of io.fetchSockets() (all
// sockets), io.in(room).fetchSockets() (one room of CLIENTS/100) and
// adapter.allRooms(), from one of the Node servers.
"use strict";

const path = require("path");
const fs = require("fs");
const { spawn } = require("child_process");
const h = require("../t/lib/harness");

const CLIENTS = Number(process.argv[2] || 10000);
const LOADGEN = path.join(__dirname, "..", "build", "loadgen");

async function timed(fn, runs = 9) {
  const ms = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[runs >> 1], min: ms[0], max: ms[runs - 1], result };
}

(async () => {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({
    workers: 4, redis: redis.url, nofile: 8192, connections: 8192,
    location: "socketio_join $arg_room;",
  });
  const a = await h.startNodeServer({ redis: redis.url });
  const b = await h.startNodeServer({ redis: redis.url });
  await redis.waitNumsub("socket.io-request#/#", 6);

  const dir = h.tmpdir("sio-fetch-");
  const ready = path.join(dir, "ready");
  const lg = spawn(LOADGEN, ["-p", String(nginx.port), "-n", String(CLIENTS),
    "-P", String(Math.ceil(CLIENTS / 8000)), "-s", "4", "-r", "100",
    "-t", "0", "-R", ready, "-o", path.join(dir, "out.json")],
    { stdio: ["ignore", "inherit", "inherit"] });
  await h.waitFor(() => fs.existsSync(ready), { timeout: 120000, what: "clients" });

  const io = a.io;
  const all = await timed(() => io.fetchSockets());
  const room = await timed(() => io.in("r7").fetchSockets());
  const rooms = await timed(() => io.of("/").adapter.allRooms());

  const line = (what, r, n) => console.log(
    `${what.padEnd(34)} ${String(n).padStart(6)} results  median ${r.median.toFixed(1)} ms` +
    `  (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`);
  console.log(`2 Node servers, nginx with 4 workers, ${CLIENTS} clients on nginx`);
  line("io.fetchSockets()", all, all.result.length);
  line('io.in("r7").fetchSockets()', room, room.result.length);
  line("adapter.allRooms()", rooms, rooms.result.size);

  lg.kill("SIGTERM");
  await new Promise((r) => lg.once("exit", r));
  await a.close();
  await b.close();
  await nginx.stop();
  nginx.assertCleanLog();
  await redis.stop();
  if (all.result.length !== CLIENTS) {
    console.error(`expected ${CLIENTS} sockets, got ${all.result.length}`);
    process.exit(1);
  }
})().catch((e) => { console.error(e); process.exit(1); });

// The incumbent for bench/run.js: a Node.js socket.io@4 server with the
// classic @socket.io/redis-adapter, WebSocket only, joining rooms from the
// query string as `socketio_join $arg_room;` does in nginx.
//
//   node --expose-gc bench/node-server.js PORT REDIS_URL KEY [PING_INTERVAL_MS PING_TIMEOUT_MS]
//
// Started with an IPC channel (child_process.fork): "gc" runs a full
// garbage collection twice and answers "gc-done"; "ready" is sent once it
// listens.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const req = createRequire(path.join(__dirname, "..", "t", "package.json"));
const { Server } = req("socket.io");
const { createAdapter } = req("@socket.io/redis-adapter");
const { createClient } = req("redis");

const [port, redisUrl, key = "socket.io", pingInterval = "25000", pingTimeout = "20000"] =
  process.argv.slice(2);

// nginx's $arg_NAME: the raw (still URL-encoded) value of the first
// argument of that name, matched case-insensitively
function argRaw(url, name) {
  const q = url.indexOf("?");
  if (q < 0) return "";
  for (const kv of url.slice(q + 1).split("&")) {
    const eq = kv.indexOf("=");
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k.toLowerCase() === name) return eq < 0 ? "" : kv.slice(eq + 1);
  }
  return "";
}

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);

  const io = new Server({
    transports: ["websocket"],
    serveClient: false,
    pingInterval: Number(pingInterval),
    pingTimeout: Number(pingTimeout),
  });
  io.adapter(createAdapter(pub, sub, { key }));

  // socketio_join $arg_room: split on white space and commas, only empty
  // tokens skipped
  io.on("connection", (socket) => {
    const rooms = argRaw(socket.request.url, "room").split(/[\s,]+/)
      .filter((r) => r !== "");
    if (rooms.length) socket.join(rooms);
  });

  const http = require("node:http").createServer();
  io.attach(http);
  await new Promise((resolve) => http.listen(Number(port), "127.0.0.1", 4096, resolve));

  process.on("message", (m) => {
    if (m === "gc" && global.gc) {
      global.gc();
      global.gc();
      process.send("gc-done");
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
  process.send("ready");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// The demo's application server: a plain Node.js socket.io server in the
// same cluster as nginx (the classic @socket.io/redis-adapter on the same
// Redis).  It broadcasts; nginx delivers to the browsers it holds.
//
//   REDIS_URL  redis://127.0.0.1:6379   the cluster's Redis
//   APP_PORT   3000                     its own Socket.IO port (127.0.0.1)
//
// Packages come from t/node_modules (sh t/deps.sh installs them).
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const need = createRequire(path.join(__dirname, "..", "t", "package.json"));
const { Server } = need("socket.io");
const { createAdapter } = need("@socket.io/redis-adapter");
const { createClient } = need("redis");

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const PORT = Number(process.env.APP_PORT || 3000);

const log = (...a) => console.log("app:", ...a);

const LINES = [
  "nginx holds the sockets, Node.js holds the logic",
  "one encode per worker, however many sockets",
  "no sticky sessions: WebSocket only",
  "this message came through Redis",
  "io.of(\"/chat\").emit() reaches nginx too",
];

async function main() {
  const pub = createClient({ url: REDIS_URL });
  const sub = pub.duplicate();
  let redisDown = false;
  for (const c of [pub, sub]) {
    c.on("error", (e) => {
      if (!redisDown) log("redis:", e.message);
      redisDown = true;
    });
    c.on("ready", () => { redisDown = false; });
  }
  await Promise.all([pub.connect(), sub.connect()]);

  const io = new Server({ transports: ["websocket"] });
  io.adapter(createAdapter(pub, sub));
  const chat = io.of("/chat");

  // clients may connect here too; they get the same broadcasts
  io.on("connection", (s) => log("local client", s.id, "on /"));
  chat.on("connection", (s) => log("local client", s.id, "on /chat"));

  const http = require("node:http").createServer((req, res) => {
    res.writeHead(404).end();
  });
  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(PORT, "127.0.0.1", resolve);
  });
  io.attach(http);

  log(`socket.io on 127.0.0.1:${PORT}, namespaces / and /chat, adapter on ${REDIS_URL}`);

  let n = 0;
  const timers = [];
  const every = (ms, fn) => timers.push(setInterval(fn, ms));

  // to everyone, every second
  every(1000, () => {
    n++;
    io.emit("tick", { n, time: new Date().toISOString() });
  });

  // to one room only: sockets that joined "lobby" (socketio_join $arg_room)
  let lobby = 0;
  every(3000, () => {
    lobby++;
    io.to("lobby").emit("lobby", `hello lobby #${lobby}`, { from: "app", at: Date.now() });
  });

  // another room, to show that nginx filters: only "games" members see it
  every(4000, () => {
    io.to("games").emit("games", { score: [Math.floor(n / 7), Math.floor(n / 11)] });
  });

  // another namespace
  let line = 0;
  every(5000, () => {
    chat.emit("message", { user: "app", text: LINES[line++ % LINES.length] });
  });

  // binary now and then: a Buffer, delivered as a binary attachment
  every(7000, () => {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32BE(n, 0);
    for (let i = 4; i < 8; i++) bytes[i] = Math.floor(Math.random() * 256);
    io.emit("binary", bytes);
  });

  let stopping = false;
  const stop = async (sig) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    timers.forEach(clearInterval);
    io.close();
    await Promise.all([pub.disconnect().catch(() => {}), sub.disconnect().catch(() => {})]);
    process.exit(0);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((e) => {
  console.error("app:", e.message);
  process.exit(1);
});

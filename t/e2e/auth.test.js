// nginx's own auth_request authorizes the handshake, and what the auth
// backend answers feeds socketio_join through auth_request_set.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const h = require("../lib/harness");
const { RawWs } = require("../lib/rawws");

// the auth backend: token -> rooms, as an application would answer
async function authBackend() {
  const seen = [];
  const srv = http.createServer((req, res) => {
    const uri = new URL(req.headers["x-original-uri"] || "/", "http://x");
    const token = uri.searchParams.get("token");
    seen.push(token);
    if (token === "alice-token") {
      res.writeHead(204, { "X-Socketio-Rooms": "team-a, vip" });
    } else if (token === "bob-token") {
      res.writeHead(204, { "X-Socketio-Rooms": "team-b" });
    } else {
      res.writeHead(401);
    }
    res.end();
  });
  const port = await h.freePort();
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  return { port, seen, close: () => new Promise((r) => srv.close(r)) };
}

test("auth_request authorizes the handshake and feeds socketio_join", async (t) => {
  const auth = await authBackend();
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({
    redis: redis.url,
    location: `
            auth_request /auth;
            auth_request_set $rooms $upstream_http_x_socketio_rooms;
            socketio_join $rooms user:$arg_user;`,
    locations: `
        location = /auth {
            internal;
            proxy_pass http://127.0.0.1:${auth.port};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }`,
  });
  t.after(async () => {
    await nginx.stop();
    nginx.assertCleanLog();
    await redis.stop();
    await auth.close();
  });

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  const alice = h.client(nginx.port, "/", { query: { token: "alice-token", user: "alice" } });
  const bob = h.client(nginx.port, "/", { query: { token: "bob-token", user: "bob" } });
  await h.connectAll([alice, bob]);
  t.after(() => h.closeAll(alice, bob));

  const got = { alice: h.recorder(alice), bob: h.recorder(bob) };

  emitter.to("team-a").emit("team", "a");
  emitter.to("vip").emit("vip");
  emitter.to("team-b").emit("team", "b");
  emitter.to("user:bob").emit("personal", "bob");
  emitter.emit("fence");
  await Promise.all([h.nextEvent(alice, "fence"), h.nextEvent(bob, "fence")]);

  assert.deepEqual(got.alice, [["team", "a"], ["vip"], ["fence"]]);
  assert.deepEqual(got.bob, [["team", "b"], ["personal", "bob"], ["fence"]]);

  // a token the backend refuses: no upgrade, the client sees an error
  const raw = await RawWs.connect(nginx.port, {
    query: "EIO=4&transport=websocket&token=nope",
  });
  assert.equal(raw.status, 401);

  const eve = h.client(nginx.port, "/", { query: { token: "nope" } });
  await assert.rejects(h.connected(eve), /websocket error/);
  eve.close();

  assert.ok(auth.seen.includes("alice-token") && auth.seen.includes("nope"));
});

test("socketio_join: split on white space and commas, empty tokens skipped", async (t) => {
  const redis = await h.Redis.start();
  const nginx = await h.Nginx.start({
    redis: redis.url,
    server: `set $list " a,b ,,c\t d ";`,
    location: "socketio_join $list user:$arg_user;",
  });
  t.after(() => h.shutdown(nginx, redis));

  await redis.waitNumsub("socket.io-request#/#", 2);
  const emitter = await h.startEmitter(redis.url);
  t.after(() => emitter.close());

  // no user argument: the room is "user:", not nothing
  const s = h.client(nginx.port);
  await h.connected(s);
  t.after(() => s.close());
  const got = h.recorder(s);

  for (const room of ["a", "b", "c", "d", "user:", " a", "a,b", "", "user:x"]) {
    emitter.to(room).emit("to", room);
  }
  emitter.emit("fence");
  await h.nextEvent(s, "fence");

  assert.deepEqual(got, [["to", "a"], ["to", "b"], ["to", "c"], ["to", "d"],
    ["to", "user:"], ["fence"]]);
});

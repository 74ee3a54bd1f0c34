// The Engine.IO handshake over HTTP (PROTOCOL 1.1-1.3, 8.1;
// vectors/websocket/http-handshake-and-errors.txt) and the WebSocket layer
// (RFC 6455; DESIGN 5: 1002, 1007, 1009), byte by byte against nginx.
// Every misbehaving connection must be closed alone: after each such test
// a healthy socket.io-client still gets a broadcast and an ack.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
// session.js first: it pins the module under test (see there)
const {
  ID, NOT_ROUTED, session, connectNsp, fence, closed,
  closedWithoutStatus, closedWithCode, Stack,
  badTests,
} = require("../lib/session");
const h = require("../lib/harness");
const { RawWs, httpRequest } = require("../lib/rawws");

const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const T = { timeout: 30000 };

let stack;

before(async () => {
  stack = await Stack.start({
    locations: `
        location /small/ {
            socketio;
            socketio_max_payload 1k;
        }
        location /cfg/ {
            socketio;
            socketio_ping_interval 1500ms;
            socketio_ping_timeout 1s;
            socketio_max_payload 10000;
        }`,
  });
});

after(() => stack && stack.finish());

const bad = badTests(() => stack, T);

function accept(key) {
  return crypto.createHash("sha1")
    .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

function upgradeRequest(query, extra = "", path = "/socket.io/") {
  return `GET ${path}?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\n${extra}\r\n`;
}

function plainRequest(method, query, extra = "") {
  return `${method} /socket.io/?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Connection: close\r\n${extra}\r\n`;
}

function header(head, name) {
  const m = new RegExp(`^${name}: *(.*)$`, "im").exec(head);
  return m ? m[1].trim() : undefined;
}

// a JSON error answer to a plain HTTP request (PROTOCOL 1.2)
async function jsonError(text, code, message) {
  const r = await httpRequest(stack.port, text);
  assert.equal(r.status, 400, r.head);
  assert.match(r.head, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.equal(header(r.head, "Content-Type"), "application/json");
  assert.equal(r.body, JSON.stringify({ code, message }));
}

// a raw 400 to an upgrade request: never a 101 (PROTOCOL 1.2)
async function rawError(text, message) {
  const r = await httpRequest(stack.port, text);
  assert.equal(r.status, 400, r.head);
  assert.match(r.head, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.doesNotMatch(r.head + r.body, /101 Switching/);
  assert.equal(header(r.head, "Content-Type"), "text/html");
  assert.equal(header(r.head, "Content-Length"), String(Buffer.byteLength(message)));
  assert.equal(r.body, message);
}

// -------------------------------------------------------------- handshake

test("upgrade: the 101 of ws, Sec-WebSocket-Accept of the RFC 6455 sample key", T,
  async () => {
    const ws = await stack.session({ key: SAMPLE_KEY });
    assert.equal(ws.head, "HTTP/1.1 101 Switching Protocols\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`);
    ws.destroy();
  });

test("upgrade: Sec-WebSocket-Accept for other keys", T, async () => {
  const keys = ["hD7KC/K8jTm+R/X5O7dqdA==", "9iJwgBBcZkCYr9L9gLtD6w==",
    crypto.randomBytes(16).toString("base64"), crypto.randomBytes(16).toString("base64")];
  assert.equal(accept(keys[0]), "WX01+MopD49T+dtvewPLOJg1kDo="); // vector E1
  assert.equal(accept(keys[1]), "YKVYPyLgEaiDACDrbwtRsPHM6fg="); // ws-plain-session
  for (const key of keys) {
    const ws = await stack.session({ key });
    assert.equal(header(ws.head, "Sec-WebSocket-Accept"), accept(key));
    ws.destroy();
  }
});

test("upgrade: permessage-deflate offered is not accepted (PROTOCOL 1.3)", T, async () => {
  const ws = await stack.session({
    key: SAMPLE_KEY,
    headers: {
      "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": SAMPLE_KEY,
      Connection: "Upgrade", Upgrade: "websocket",
      "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
      Host: "127.0.0.1",
    },
  });
  assert.equal(ws.head, "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`);
  assert.equal(ws.frames[0].rsv, 0, "no compressed frames");
  ws.destroy();
});

test("upgrade: header values as browsers send them (WebSocket, keep-alive, Upgrade)", T,
  async () => {
    const key = crypto.randomBytes(16).toString("base64");
    const ws = await stack.session({
      headers: {
        Host: "127.0.0.1", "User-Agent": "test", Connection: "keep-alive, Upgrade",
        Upgrade: "WebSocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key,
        Origin: "http://example.com",
      },
    });
    assert.equal(header(ws.head, "Sec-WebSocket-Accept"), accept(key));
    ws.destroy();
  });

test("open packet: the first frame; key order sid, upgrades, pingInterval, pingTimeout, maxPayload",
  T, async () => {
    const cases = [
      ["/socket.io/", 25000, 20000, 1048576],   // the defaults; 1m = 1048576
      ["/small/", 25000, 20000, 1024],
      ["/cfg/", 1500, 1000, 10000],
    ];
    const sids = new Set();
    for (const [path, interval, timeout, max] of cases) {
      const ws = await stack.session({ path });
      const f = ws.frames[0];
      assert.equal(f.opcode, 1);
      assert.equal(f.fin, 1);
      assert.match(ws.sid, ID);
      assert.equal(ws.openText, `0{"sid":"${ws.sid}","upgrades":[],` +
        `"pingInterval":${interval},"pingTimeout":${timeout},"maxPayload":${max}}`);
      sids.add(ws.sid);
      ws.destroy();
    }
    assert.equal(sids.size, cases.length, "every session has its own sid");
  });

test("polling GET and POST: 400 JSON code 0 Transport unknown", T, async () => {
  await jsonError(plainRequest("GET", "EIO=4&transport=polling"), 0, "Transport unknown");
  await jsonError(plainRequest("POST", "EIO=4&transport=polling", "Content-Length: 0\r\n"),
    0, "Transport unknown");
  await jsonError(plainRequest("POST", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
    "Content-Length: 3\r\n") + "1:6", 0, "Transport unknown");
});

test("missing transport: 400 JSON code 0 Transport unknown", T, async () => {
  await jsonError(plainRequest("GET", "EIO=4"), 0, "Transport unknown");
  await jsonError(plainRequest("GET", ""), 0, "Transport unknown");
});

test("plain GET with transport=websocket: 400 JSON code 3 Bad request", T, async () => {
  await jsonError(plainRequest("GET", "EIO=4&transport=websocket"), 3, "Bad request");
});

test("non-upgrade with a sid: 400 JSON code 1 Session ID unknown", T, async () => {
  await jsonError(plainRequest("GET", "EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"),
    1, "Session ID unknown");
});

test("non-GET handshake: 400 JSON code 2 Bad handshake method", T, async () => {
  await jsonError(plainRequest("PUT", "EIO=4&transport=websocket", "Content-Length: 0\r\n"),
    2, "Bad handshake method");
});

test("upgrade with another transport: raw 400 Transport unknown", T, async () => {
  await rawError(upgradeRequest("EIO=4&transport=foo"), "Transport unknown");
  await rawError(upgradeRequest("EIO=4&transport=polling"), "Transport unknown");
  await rawError(upgradeRequest("EIO=4"), "Transport unknown");
  // the transport is checked before the protocol version
  await rawError(upgradeRequest("EIO=3&transport=foo"), "Transport unknown");
});

test("upgrade with a sid: raw 400 Session ID unknown", T, async () => {
  await rawError(upgradeRequest("EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"),
    "Session ID unknown");
});

test("upgrade with an empty sid is a handshake, as in Node (engine.io: if (sid))", {
  ...T,
}, async () => {
  const ws = await stack.raw({ query: "EIO=4&transport=websocket&sid=" });
  assert.equal(ws.status, 101, ws.head + "\n" + (ws.body || ""));
  ws.destroy();
});

test("EIO other than 4: raw 400 Unsupported protocol version, no 101 (DESIGN 5)", T,
  async () => {
    for (const q of ["EIO=3&transport=websocket", "EIO=5&transport=websocket",
      "transport=websocket", "EIO=&transport=websocket", "EIO=abc&transport=websocket",
      "EIO=44&transport=websocket", "EIO=04&transport=websocket"]) {
      await rawError(upgradeRequest(q), "Unsupported protocol version");
    }
    // through RawWs too: the status is 400, never 101
    const ws = await stack.raw({ query: "EIO=3&transport=websocket" });
    assert.equal(ws.status, 400);
    assert.equal(ws.body, "Unsupported protocol version");
    assert.equal(ws.frames.length, 0);
  });

test("bad Sec-WebSocket-Key: 400, no upgrade", T, async () => {
  const base = (key) => "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
    "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
    "Sec-WebSocket-Version: 13\r\n" +
    (key === undefined ? "" : `Sec-WebSocket-Key: ${key}\r\n`) + "\r\n";
  const message = "Missing or invalid Sec-WebSocket-Key header";
  for (const key of [undefined, "", "not a key", "c2hvcnQ=",
    crypto.randomBytes(15).toString("base64"), crypto.randomBytes(17).toString("base64"),
    "AAAAAAAAAAAAAAAAAAAAA$==", SAMPLE_KEY + "x"]) {
    await rawError(base(key), message);
  }
});

test("bad Sec-WebSocket-Version: 400, no upgrade; 13 and 8 (as ws) are accepted", T,
  async () => {
    const base = (v) => "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
      "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
      `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\n` +
      (v === undefined ? "" : `Sec-WebSocket-Version: ${v}\r\n`) + "\r\n";
    const message = "Missing or invalid Sec-WebSocket-Version header";
    for (const v of [undefined, "", "12", "14", "7", "abc"]) {
      await rawError(base(v), message);
    }
    for (const v of ["13", "8"]) {
      const ws = await stack.session({
        headers: { Host: "127.0.0.1", Connection: "Upgrade", Upgrade: "websocket",
          "Sec-WebSocket-Key": SAMPLE_KEY, "Sec-WebSocket-Version": v },
      });
      ws.destroy();
    }
  });

test("frames sent right behind the request, before the 101, are handled", T, async () => {
  const probe = new RawWs();
  const early = Buffer.concat([probe.frame(1, "40"), probe.frame(1, "421[\"early\"]")]);
  const ws = await stack.session({ early });
  await ws.nextText((s) => s.startsWith("40{"), 1);
  const texts = ws.texts();
  assert.match(texts[1], /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  await ws.nextText(`431${NOT_ROUTED}`, 2);
  ws.destroy();
});

test("more than 64 KiB sent behind the request (client_header_buffer_size 512k): " +
  "all of it handled", {
  ...T,
}, async () => {
  // an nginx of its own: this one may lose its worker
  const nginx = await h.Nginx.start({ workers: 1, http: "client_header_buffer_size 512k;" });
  try {
    for (const size of [70000, 150000]) {
      const probe = new RawWs();
      const early = Buffer.concat([probe.frame(1, "40"),
        probe.frame(1, `421["big","${"x".repeat(size)}"]`), probe.frame(1, '422["after"]')]);
      const ws = await session(nginx.port, { early });
      await ws.nextText(`432${NOT_ROUTED}`, 1);
      assert.match(ws.texts()[1], /^40\{"sid":/);
      assert.deepEqual(ws.texts().slice(2), [`431${NOT_ROUTED}`, `432${NOT_ROUTED}`]);
      ws.destroy();
    }
  } finally {
    await nginx.stop();
  }
  nginx.assertCleanLog();
});

// -------------------------------------------------------------- frames

test("server frames: unmasked, FIN set, text for text packets", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  await fence(ws, 7);
  for (const f of ws.frames) {
    assert.equal(f.fin, 1);
    assert.equal(f.rsv, 0);
    assert.equal(f.opcode, 1);
  }
  ws.destroy();
});

test("several frames in one write, and a frame arriving in small pieces", T, async () => {
  const ws = await stack.session();
  ws.sock.setNoDelay(true);
  ws.write(Buffer.concat([ws.frame(1, "40"), ws.frame(1, "421[\"a\"]"),
    ws.frame(1, "422[\"b\"]")]));
  await ws.nextText(`432${NOT_ROUTED}`, 1);
  const t = ws.texts();
  assert.match(t[1], /^40\{/);
  assert.deepEqual(t.slice(2), [`431${NOT_ROUTED}`, `432${NOT_ROUTED}`]);

  // a frame with a 16-bit length, written a few bytes at a time
  const big = ws.frame(1, `423["pieces","${"p".repeat(300)}"]`);
  const cuts = [1, 2, 3, 4, 6, 8, 100, big.length];
  let at = 0;
  for (const cut of cuts) {
    ws.write(big.subarray(at, cut));
    at = cut;
    await h.sleep(10); // stimulus only: separate TCP segments
  }
  await ws.nextText(`433${NOT_ROUTED}`, 1);
  ws.destroy();
});

test("a message with a 64-bit length (70000 bytes, more than one read)", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  const from = ws.mark();
  ws.sendText(`425["big","${"x".repeat(70000)}"]`);
  await ws.nextText(`435${NOT_ROUTED}`, from);
  ws.destroy();
});

bad("unmasked client frame: close 1002", async () => {
  const ws = await stack.session();
  ws.sendText("40", { mask: false });
  await closedWithCode(ws, 1002);
});

bad("unmasked frame after a valid exchange: close 1002", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  await fence(ws, 1);
  ws.sendText("422[\"x\"]", { mask: false });
  await closedWithCode(ws, 1002);
});

for (const rsv of [4, 2, 1]) {
  bad(`RSV bits ${rsv.toString(2).padStart(3, "0")} set: close 1002`, async () => {
    const ws = await stack.session();
    ws.sendText("40", { rsv });
    await closedWithCode(ws, 1002);
  });
}

bad("reserved opcodes 3-7 and 0xB-0xF: close 1002", async () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const ws = await stack.session();
    ws.send(op, "40");
    await closedWithCode(ws, 1002);
  }
});

bad("control frame with more than 125 bytes: close 1002", async () => {
  for (const op of [9, 10, 8]) {
    const ws = await stack.session();
    ws.send(op, Buffer.alloc(126, 0x61));
    await closedWithCode(ws, 1002);
  }
});

bad("fragmented control frame: close 1002", async () => {
  for (const op of [9, 10, 8]) {
    const ws = await stack.session();
    ws.send(op, op === 8 ? Buffer.from([0x03, 0xe8]) : "ab", { fin: false });
    await closedWithCode(ws, 1002);
  }
});

test("a Socket.IO packet split over 3 frames (text, continuation, continuation)", T,
  async () => {
    const ws = await stack.session();
    await connectNsp(ws);
    const from = ws.mark();
    ws.sendText("4", { fin: false });
    ws.send(0, "21[\"split", { fin: false });
    ws.send(0, "\",\"over three\"]");
    await ws.nextText(`431${NOT_ROUTED}`, from);
    // empty fragments are fragments too
    ws.sendText("", { fin: false });
    ws.send(0, "422[\"e\"]", { fin: false });
    ws.send(0, "");
    await ws.nextText(`432${NOT_ROUTED}`, from);
    // a binary attachment in fragments
    ws.sendText('451-3["bin",{"_placeholder":true,"num":0}]');
    ws.sendBinary(Buffer.from([1, 2]), { fin: false });
    ws.send(0, Buffer.from([3]), { fin: false });
    ws.send(0, Buffer.from([0xff]));
    await ws.nextText(`433${NOT_ROUTED}`, from);
    ws.destroy();
  });

test("a ping between fragments is answered (same payload) and the message completes", T,
  async () => {
    const ws = await stack.session();
    await connectNsp(ws);
    const from = ws.mark();
    ws.sendText("421[\"frag", { fin: false });
    ws.send(9, "hello");
    ws.send(0, "mented\",", { fin: false });
    ws.send(9, Buffer.from([0, 1, 2, 0xff]));
    ws.send(10, "unsolicited pong: ignored");
    ws.send(0, "1]");
    const ack = await ws.next((f) => f.opcode === 1, from);
    assert.equal(ack.payload.toString(), `431${NOT_ROUTED}`);
    const pongs = ws.frames.slice(from).filter((f) => f.opcode === 10);
    assert.deepEqual(pongs.map((f) => f.payload.toString("hex")),
      [Buffer.from("hello").toString("hex"), "000102ff"]);
    // the pongs went out when the pings came, before the message completed
    const i = ws.frames.indexOf(ack);
    assert.ok(ws.frames.indexOf(pongs[1]) < i);
    ws.destroy();
  });

test("ping: answered with a pong of the same payload (empty, 125 bytes)", T, async () => {
  const ws = await stack.session();
  for (const payload of [Buffer.alloc(0), crypto.randomBytes(125), Buffer.from("€")]) {
    const from = ws.mark();
    ws.send(9, payload);
    const pong = await ws.next((f) => f.opcode === 10, from);
    assert.equal(pong.fin, 1);
    assert.deepEqual(pong.payload, payload);
  }
  ws.destroy();
});

bad("continuation frame without a start: close 1002", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.send(0, "42[\"x\"]");
  await closedWithCode(ws, 1002);

  // also right after a complete message
  const ws2 = await stack.session();
  ws2.sendText("40");
  ws2.send(0, "more");
  await closedWithCode(ws2, 1002);
});

bad("a new data frame inside a fragmented message: close 1002", async () => {
  for (const [op, fin] of [[1, true], [2, true], [1, false]]) {
    const ws = await stack.session();
    await connectNsp(ws);
    ws.sendText("42[\"a", { fin: false });
    ws.send(op, "42[\"b\"]", { fin });
    await closedWithCode(ws, 1002);
  }
});

const INVALID_UTF8 = {
  "a lone continuation byte": [0x80],
  "0xff": [0xff],
  "an overlong encoding": [0xc0, 0xaf],
  "an overlong 3-byte NUL": [0xe0, 0x80, 0x80],
  "a UTF-16 surrogate": [0xed, 0xa0, 0x80],
  "above U+10FFFF": [0xf4, 0x90, 0x80, 0x80],
  "a truncated sequence": [0xe2, 0x82],
};

bad("invalid UTF-8 in a text message: close 1007", async () => {
  for (const [what, bytes] of Object.entries(INVALID_UTF8)) {
    const ws = await stack.session();
    await connectNsp(ws);
    ws.sendText(Buffer.concat([Buffer.from("421[\""), Buffer.from(bytes),
      Buffer.from("\"]")]));
    await closedWithCode(ws, 1007).catch((e) => {
      e.message = `${what}: ${e.message}`;
      throw e;
    });
  }
  // at the very end of the message
  const ws = await stack.session();
  ws.sendText(Buffer.from([0x34, 0x32, 0xe2, 0x82]));
  await closedWithCode(ws, 1007);
});

bad("invalid UTF-8 across fragments: close 1007", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.sendText(Buffer.from([0x34, 0x32, 0x5b, 0x22, 0xe2, 0x82]), { fin: false });
  ws.send(0, Buffer.from([0x28, 0x22, 0x5d]));   // e2 82 28: not a continuation
  await closedWithCode(ws, 1007);
});

test("valid UTF-8 split inside code points across fragments is accepted", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  const msg = Buffer.from('421["€ é 😀 \u{10ffff}"]');
  // cut inside "€" (3 bytes), then inside "😀" (4 bytes), byte by byte
  const euro = msg.indexOf(Buffer.from("€"));
  const smile = msg.indexOf(Buffer.from("😀"));
  const cuts = [euro + 1, euro + 2, smile + 1, smile + 2, smile + 3];
  const from = ws.mark();
  let at = 0;
  cuts.forEach((cut, i) => {
    ws.send(i === 0 ? 1 : 0, msg.subarray(at, cut), { fin: false });
    at = cut;
  });
  ws.send(0, msg.subarray(at));
  await ws.nextText(`431${NOT_ROUTED}`, from);
  // and in one frame
  ws.sendText(Buffer.from('422["\u007f \u00ff \u07ff \uffff 😀"]'));
  await ws.nextText(`432${NOT_ROUTED}`, from);
  ws.destroy();
});

test("binary frames are not UTF-8 checked", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  const from = ws.mark();
  ws.sendText('451-1["bin",{"_placeholder":true,"num":0}]');
  ws.sendBinary(Buffer.from([0xff, 0xfe, 0xc0, 0x80]));
  await ws.nextText(`431${NOT_ROUTED}`, from);
  ws.destroy();
});

// exactly n bytes: an event with ack id "id" padded with "a"
function sized(n, id = 1) {
  const head = `42${id}["big","`;
  const tail = '"]';
  return head + "a".repeat(n - head.length - tail.length) + tail;
}

test("a message of exactly socketio_max_payload bytes is accepted (1k)", T, async () => {
  const ws = await stack.session({ path: "/small/" });
  await connectNsp(ws);
  const from = ws.mark();
  ws.sendText(sized(1024));
  await ws.nextText(`431${NOT_ROUTED}`, from);
  // fragmented, 1024 in all
  const m = sized(1024, 2);
  ws.sendText(m.slice(0, 512), { fin: false });
  ws.send(0, m.slice(512, 1000), { fin: false });
  ws.send(0, m.slice(1000));
  await ws.nextText(`432${NOT_ROUTED}`, from);
  // binary, 1024 bytes
  ws.sendText('451-3["bin",{"_placeholder":true,"num":0}]');
  ws.sendBinary(Buffer.alloc(1024, 7));
  await ws.nextText(`433${NOT_ROUTED}`, from);
  ws.destroy();
});

bad("a message over socketio_max_payload in one frame: close 1009", async () => {
  const ws = await stack.session({ path: "/small/" });
  await connectNsp(ws);
  ws.sendText(sized(1025));
  await closedWithCode(ws, 1009);

  const wb = await stack.session({ path: "/small/" });
  wb.sendBinary(Buffer.alloc(1025));
  await closedWithCode(wb, 1009);

  // the length alone decides: 2^40 bytes announced, none sent
  const wl = await stack.session({ path: "/small/" });
  wl.write(Buffer.from([0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
  await closedWithCode(wl, 1009);
});

test("control frames inside a fragmented message do not count toward " +
  "socketio_max_payload (ws counts data frames only)", {
  ...T,
}, async () => {
  const ws = await stack.session({ path: "/small/" });
  await connectNsp(ws);
  const from = ws.mark();
  const m = sized(1024);
  ws.sendText(m.slice(0, 1000), { fin: false });
  ws.send(9, "p".repeat(100));
  ws.send(0, m.slice(1000));
  await ws.nextText(`431${NOT_ROUTED}`, from);
  const pong = ws.frames.slice(from).find((f) => f.opcode === 10);
  assert.equal(pong.payload.toString(), "p".repeat(100));
  ws.destroy();
  await stack.healthy();
});

bad("a fragmented message over socketio_max_payload in total: close 1009", async () => {
  const ws = await stack.session({ path: "/small/" });
  await connectNsp(ws);
  const m = sized(1200);
  ws.sendText(m.slice(0, 600), { fin: false });
  ws.send(0, m.slice(600));
  await closedWithCode(ws, 1009);

  const w3 = await stack.session({ path: "/small/" });
  w3.sendText("x".repeat(400), { fin: false });
  w3.send(0, "x".repeat(400), { fin: false });
  w3.send(0, "x".repeat(400));
  await closedWithCode(w3, 1009);
});

test("a client close frame with code and reason is echoed, then the server ends TCP", T,
  async () => {
    for (const [code, reason] of [[4000, "bye"], [1000, "normal closure é"], [1001, ""],
      [3999, "x".repeat(123)]]) {
      const ws = await stack.session();
      await connectNsp(ws);
      const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]),
        Buffer.from(reason)]);
      // anything behind the close frame is dropped
      ws.write(Buffer.concat([ws.frame(8, payload), ws.frame(1, '421["after close"]'),
        ws.frame(9, "ping after close")]));
      const c = await closed(ws);
      assert.equal(c.code, code);
      assert.equal(c.reason, reason);
      assert.deepEqual(c.payload, payload);
    }
  });

test("an empty client close frame is echoed empty, then the server ends TCP", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.send(8, "");
  await closedWithoutStatus(ws);
  // before any CONNECT too
  const ws2 = await stack.session();
  ws2.send(8, "");
  await closedWithoutStatus(ws2);
});

bad("a close frame with an invalid status: close 1002", async () => {
  for (const payload of [Buffer.from([0x03]), Buffer.from([0x03, 0xed]) /* 1005 */,
    Buffer.from([0x03, 0xee]) /* 1006 */, Buffer.from([0x03, 0xe7]) /* 999 */,
    Buffer.from([0x03, 0xec]) /* 1004 */, Buffer.from([0x13, 0x88]) /* 5000 */,
    Buffer.from([0x00, 0x00])]) {
    const ws = await stack.session();
    ws.send(8, payload);
    await closedWithCode(ws, 1002).catch((e) => {
      e.message = `${payload.toString("hex")}: ${e.message}`;
      throw e;
    });
  }
});

bad("a close frame with an invalid UTF-8 reason: close 1007", async () => {
  const ws = await stack.session();
  ws.send(8, Buffer.from([0x03, 0xe8, 0x61, 0xff]));
  await closedWithCode(ws, 1007);
});

bad("the client goes away without a close frame, mid-frame", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.write(ws.frame(1, "421[\"never completes\"]").subarray(0, 8));
  ws.destroy();
  const ws2 = await stack.session();
  ws2.sendText("421[\"frag", { fin: false });
  ws2.destroy();
});

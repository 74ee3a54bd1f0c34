// Engine.IO v4 over WebSocket (PROTOCOL 1.4-1.7, 8.1; vectors
// ws-edge-cases.txt E1-E5, E16): the heartbeat, packet types, closing.
// No durations are asserted: short intervals only make the tests quick,
// generous timeouts only bound failures.  Every misbehaving connection
// must be closed alone: after each such test a healthy socket.io-client
// still gets a broadcast and an ack.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
// session.js first: it pins the module under test (see there)
const {
  NOT_ROUTED, connectNsp, fence, closedWithoutStatus, Stack,
  badTests,
} = require("../lib/session");
const h = require("../lib/harness");

const T = { timeout: 30000 };

let stack;

before(async () => {
  stack = await Stack.start({
    locations: `
        location /hb/ {
            socketio;
            socketio_ping_interval 300ms;
            socketio_ping_timeout 2500ms;
        }
        location /hbfast/ {
            socketio;
            socketio_ping_interval 300ms;
            socketio_ping_timeout 300ms;
        }`,
  });
});

after(() => stack && stack.finish());

const bad = badTests(() => stack, T);

const isPing = (f) => f.opcode === 1 && f.payload.toString() === "2";

// -------------------------------------------------------------- heartbeat

test("the server pings \"2\"; the session lives while the client answers \"3\" (E1)", T,
  async () => {
    const ws = await stack.session({ path: "/hb/" });
    assert.equal(ws.handshake.pingInterval, 300);
    assert.equal(ws.handshake.pingTimeout, 2500);
    await connectNsp(ws);
    for (let i = 0; i < 4; i++) {
      const from = ws.mark();
      const ping = await ws.next(isPing, from);
      assert.equal(ping.fin, 1);
      ws.sendText("3");
    }
    await fence(ws, 1);
    assert.ok(!ws.closed);
    assert.ok(!ws.frames.some((f) => f.opcode === 8));
    // every server frame after the CONNECT reply is a ping or the ack
    const texts = ws.texts().slice(2);
    assert.ok(texts.every((s) => s === "2" || s === `431${NOT_ROUTED}`), texts.join(" "));
    ws.destroy();
  });

test("no ping while one is unanswered: the next is counted from the pong (PROTOCOL 1.6)", T,
  async () => {
    const ws = await stack.session({ path: "/hb/" });
    await connectNsp(ws);
    await ws.next(isPing, 0);
    const from = ws.mark();
    // three ping intervals without a pong, well within the ping timeout
    await h.sleep(900);
    assert.equal(ws.frames.slice(from).filter(isPing).length, 0,
      "no second ping before the pong");
    assert.ok(!ws.closed);
    ws.sendText("3");
    // the positive fence: pings go on after the pong
    await ws.next(isPing, from);
    ws.sendText("3");
    await fence(ws, 2);
    ws.destroy();
  });

bad("no pong: closed without status after the ping timeout (E1)", async () => {
  const ws = await stack.session({ path: "/hbfast/" });
  await connectNsp(ws);
  await closedWithoutStatus(ws);
  // the ping, then nothing but the close
  const after = ws.frames.slice(2);
  assert.deepEqual(after.map((f) => [f.opcode, f.payload.toString()]), [[1, "2"], [8, ""]]);
});

bad("no pong before any CONNECT: closed without status too", async () => {
  const ws = await stack.session({ path: "/hbfast/" });
  await closedWithoutStatus(ws);
  assert.deepEqual(ws.frames.slice(1).map((f) => [f.opcode, f.payload.toString()]),
    [[1, "2"], [8, ""]]);
});

bad("answering a while, then not: closed without status", async () => {
  const ws = await stack.session({ path: "/hb/" });
  await connectNsp(ws);
  for (let i = 0; i < 2; i++) {
    const from = ws.mark();
    await ws.next(isPing, from);
    ws.sendText("3");
  }
  await closedWithoutStatus(ws);
  // the last frames: one unanswered ping, the close
  assert.deepEqual(ws.frames.slice(-2).map((f) => [f.opcode, f.payload.toString()]),
    [[1, "2"], [8, ""]]);
});

bad("a ping \"2\" from the client: closed without status (E2)", async () => {
  for (const p of ["2", "2probe"]) {
    const ws = await stack.session();
    await connectNsp(ws);
    ws.sendText(p);
    await closedWithoutStatus(ws);
  }
});

// -------------------------------------------------------------- packets

bad("an unknown packet type \"9abc\": closed without status (E3)", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.sendText("9abc");
  await closedWithoutStatus(ws);
});

bad("other unknown types (7, 8, a, {, space): closed without status", async () => {
  for (const p of ["7", "8", "a", "{}", " 4", "c2"]) {
    const ws = await stack.session();
    ws.sendText(p);
    await closedWithoutStatus(ws).catch((e) => {
      e.message = `${JSON.stringify(p)}: ${e.message}`;
      throw e;
    });
  }
});

bad("an empty text frame: closed without status (E16)", async () => {
  const ws = await stack.session();
  ws.sendText("");
  await closedWithoutStatus(ws);

  const ws2 = await stack.session();
  await connectNsp(ws2);
  ws2.sendText("");
  await closedWithoutStatus(ws2);
});

test("\"1\", \"5\", \"6\" and an unsolicited \"3\" are ignored: the connection stays (E4, E5)",
  T, async () => {
    const ws = await stack.session();
    await connectNsp(ws);
    const from = ws.mark();
    for (const p of ["1", "5", "6", "3", "1", "6"]) ws.sendText(p);
    await fence(ws, 1);
    // nothing came back for them: the first frame after is the ack
    assert.equal(ws.frames[from].payload.toString(), `431${NOT_ROUTED}`);
    assert.equal(ws.frames.length, from + 1);
    await fence(ws, 2);
    ws.destroy();

    // before a CONNECT too
    const ws2 = await stack.session();
    ws2.sendText("1");
    ws2.sendText("5");
    ws2.sendText("6");
    await connectNsp(ws2);
    await fence(ws2, 3);
    ws2.destroy();
  });

bad("a message packet \"4\" alone: closed without status", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.sendText("4");
  await closedWithoutStatus(ws);

  const ws2 = await stack.session();
  ws2.sendText("4");
  await closedWithoutStatus(ws2);
});

bad("a message that is not Socket.IO, \"4zzz\", after \"6\" and \"5\": closed (E5)", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.sendText("6");
  ws.sendText("5");
  ws.sendText("4zzz");
  await closedWithoutStatus(ws);
});

test("\"b\" + base64 is a binary message: accepted as an attachment", T, async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  const from = ws.mark();
  ws.sendText('451-1["up",{"_placeholder":true,"num":0}]');
  ws.sendText("bq80=");                       // ab cd
  await ws.nextText(`431${NOT_ROUTED}`, from);
  // two attachments: one base64, one a binary frame; an empty one
  ws.sendText('453-2["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},' +
    '[{"_placeholder":true,"num":2}]]');
  ws.sendText("bAQIDBA==");
  ws.sendBinary(Buffer.from([5, 6]));
  ws.sendText("b");
  await ws.nextText(`432${NOT_ROUTED}`, from);
  await fence(ws, 3);
  ws.destroy();
});

bad("\"b\" + base64 when no binary packet waits: closed without status (E9)", async () => {
  const ws = await stack.session();
  await connectNsp(ws);
  ws.sendText("bAQID");
  await closedWithoutStatus(ws);
});

test("Engine.IO packets between the attachments of a binary packet", T, async () => {
  // only Socket.IO text packets interrupt a binary packet; pongs and
  // ignored types do not reach the Socket.IO layer
  const ws = await stack.session({ path: "/hb/" });
  await connectNsp(ws);
  const from = ws.mark();
  ws.sendText('452-1["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  ws.sendBinary(Buffer.from([1]));
  ws.sendText("3");
  ws.sendText("6");
  ws.sendBinary(Buffer.from([2]));
  await ws.nextText(`431${NOT_ROUTED}`, from);
  ws.destroy();
});

// Generates t/vectors/codec-node.txt: for each msgpack input (as published
// by @socket.io/redis-adapter, i.e. notepack.io), the frames a Node
// socket.io server writes to its clients after decoding it.
//
//   node tools/gen-codec-vectors.js > vectors/codec-node.txt
//
// Line format:  <msgpack hex> <TAB> <nsp> <TAB> <text frame as JSON string>
//               [<TAB> <attachment hex>]...
// or            <msgpack hex> <TAB> <nsp> <TAB> ERROR
"use strict";
const notepack = require("notepack.io");
const { Encoder } = require("socket.io-parser");

const enc = new Encoder();
const out = [];

function emit(hex, nsp) {
  let frames;
  try {
    const data = notepack.decode(Buffer.from(hex, "hex"));
    if (!Array.isArray(data)) throw new Error("not an array");
    frames = enc.encode({ type: 2, data, nsp });
  } catch (e) {
    out.push([hex, nsp, "ERROR"].join("\t"));
    return;
  }
  const line = [hex, nsp, JSON.stringify("4" + frames[0])];
  for (const b of frames.slice(1)) {
    line.push(Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex"));
  }
  out.push(line.join("\t"));
}

function value(v, nsp = "/") {
  emit(notepack.encode(v).toString("hex"), nsp);
}

// plain values through notepack.encode
value(["hello", "world", 1, { a: true }]);
value(["ev", "x"], "/chat");
value(["n", 0, -0, 1.5, -2.25, 0.1, 1e21, 1e-7, 123456789012345680000, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 5e-324, 1.7976931348623157e308, NaN, Infinity, -Infinity]);
value(["n2", 4294967295, 4294967296, -2147483649, 255, 256, 65535, 65536, -33, -129, 1e20, 1e-6, 1.5e-6, 123e-20]);
value(["s", "\"\\/\b\f\n\r\t\u0001\u001f\u007f é😀\u2028\u2029", ""]);
value(["obj", { b: 1, 2: 2, a: 3, 1: 4, "01": 5, "4294967294": 6, "4294967295": 7 }]);
value(["nested", { k: [1, [2, [3, { x: null }]]], e: {}, a: [] }]);
value(["bin", Buffer.from([1, 2, 3]), { x: Buffer.from([4, 5]) }]);
value(["bin-empty", Buffer.alloc(0), [Buffer.from([9])]]);
value(["date", new Date(0), new Date(1500), new Date(-1), new Date(8.64e15), new Date(-62198755200000), new Date(253402300800000)]);
value(["many", ...Array.from({ length: 20 }, (_, i) => i * 1.25)]);
value(["big-str", "x".repeat(70000)]);
value(["unicode-keys", { "é": 1, "😀": 2, "\u0000": 3 }]);
value(["nsp"], "/admin");
value(["bins", ...Array.from({ length: 12 }, (_, i) => Buffer.from([i]))]);

// hand-made msgpack: what notepack.encode never writes but may decode
const hand = [
  // duplicate key: first place, last value
  // ["d", {"a":1, "b":2, "a":3}]
  "92a164" + "83" + "a16101" + "a16202" + "a16103",
  // undefined (fixext1 type 0) in array and as map value
  "93a175d40000" + "82a161d40000a16201",
  // float32 0.1 and 1.5
  "93a166ca3dcccccdca3fc00000",
  // integer keys and nil/bool keys
  "92a16b" + "85" + "0201" + "c002" + "c303" + "ff04" + "cb3ff800000000000005",
  // ext types: [type, Buffer]
  "93a165" + "d5050102" + "c70307aabbcc",
  // ext type 0 of ext8 = ArrayBuffer
  "92a161c7020001fe",
  // legacy date (fixext8 type 0)
  "92a164d70000000000000003e8",
  // timestamp 32 / 64 / 96
  "94a174" + "d6ff0000000a" + "d7ff0000000400000000" + "c70cff000000000000000000000001",
  // __proto__ key
  "92a17082a95f5f70726f746f5f5f01a16102",
  // invalid UTF-8 in a string
  "92a175a5ff61eda080",
  // str8 / bin16 lengths
  "92a162c50100" + "ab".repeat(256),
  // top-level not an array
  "81a16101",
  // trailing bytes
  "91a16100",
  // truncated
  "92a16292",
];
for (const h of hand) emit(h, "/");

process.stdout.write(out.join("\n") + "\n");

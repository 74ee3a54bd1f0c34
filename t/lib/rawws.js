// A WebSocket client at the byte level, for protocol tests: it sends any
// frame (bad ones too) and reports every frame and the close exactly.
"use strict";

const crypto = require("node:crypto");
const net = require("node:net");

class RawWs {
  static connect(port, opts = {}) {
    const ws = new RawWs();
    return ws.open(port, opts);
  }

  open(port, opts) {
    this.frames = [];          // {opcode, fin, payload}
    this.waiters = [];
    this.closed = false;
    this.buf = Buffer.alloc(0);
    this.key = opts.key || crypto.randomBytes(16).toString("base64");
    const query = opts.query === undefined ? "EIO=4&transport=websocket" : opts.query;
    const path = opts.path || "/socket.io/";
    const headers = opts.headers || {
      Host: `127.0.0.1:${port}`,
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": this.key,
    };
    const head = `${opts.method || "GET"} ${path}?${query} HTTP/1.1\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";

    return new Promise((resolve, reject) => {
      this.sock = net.connect({ port, host: "127.0.0.1" }, () => {
        // early: bytes sent in the same write as the request
        this.sock.write(opts.early ? Buffer.concat([Buffer.from(head), opts.early]) : head);
      });
      let headDone = false;
      this.sock.on("data", (d) => {
        this.buf = Buffer.concat([this.buf, d]);
        if (!headDone) {
          const i = this.buf.indexOf("\r\n\r\n");
          if (i < 0) return;
          const text = this.buf.subarray(0, i).toString();
          this.status = Number(text.split(" ")[1]);
          this.head = text;
          this.buf = this.buf.subarray(i + 4);
          headDone = true;
          if (this.status !== 101) {
            this.body = this.buf.toString();
            this.sock.on("close", () => resolve(this));
            return;
          }
          resolve(this);
        } else if (this.status !== 101) {
          this.body += d.toString();
          return;
        }
        this.parse();
      });
      this.sock.on("error", (e) => { this.error = e; });
      this.sock.on("close", () => {
        this.closed = true;
        if (!headDone) reject(new Error("closed before the response"));
        this.wake();
      });
    });
  }

  parse() {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b[1] & 0x80) throw new Error("server frames are never masked");
      if (b.length < off + len) return;
      this.frames.push({ fin: b[0] >> 7, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0x0f,
        payload: Buffer.from(b.subarray(off, off + len)) });
      this.buf = b.subarray(off + len);
      this.wake();
    }
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // waits until pred(frames) is true (or the connection closes)
  async until(pred, timeout = 10000) {
    const end = Date.now() + timeout;
    while (!pred(this.frames, this)) {
      if (this.closed && !pred(this.frames, this)) {
        if (pred.allowClosed) return;
        throw new Error("connection closed; frames: " + this.describe());
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error("timed out; frames: " + this.describe());
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  // the index the next frame will get: pass it to next()/nextText() to
  // wait only for frames that arrive after this point
  mark() {
    return this.frames.length;
  }

  // the first frame at index >= from for which pred(frame) is true
  async next(pred = () => true, from = 0, timeout = 10000) {
    let found;
    await this.until((fs) => {
      for (let i = from; i < fs.length; i++) {
        if (pred(fs[i])) {
          found = fs[i];
          return true;
        }
      }
      return false;
    }, timeout);
    return found;
  }

  // the first text frame at index >= from matching (string, RegExp or
  // function), as a string
  async nextText(match, from = 0, timeout = 10000) {
    const m = typeof match === "function" ? match :
      (s) => (match instanceof RegExp ? match.test(s) : s === match);
    const f = await this.next((x) => x.opcode === 1 && m(x.payload.toString()),
      from, timeout);
    return f.payload.toString();
  }

  // the text of the n-th text frame
  texts() {
    return this.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
  }

  async text(match, timeout) {
    const m = typeof match === "function" ? match :
      (s) => (match instanceof RegExp ? match.test(s) : s === match);
    await this.until((fs) => fs.some((f) => f.opcode === 1 && m(f.payload.toString())), timeout);
    return this.texts().find(m);
  }

  // the close frame and the end of the connection
  async closeFrame(timeout = 10000) {
    await this.until((fs) => fs.some((f) => f.opcode === 8), timeout);
    const f = this.frames.find((x) => x.opcode === 8);
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null,
      reason: f.payload.subarray(2).toString(), payload: f.payload };
  }

  async ended(timeout = 10000) {
    const end = Date.now() + timeout;
    while (!this.closed) {
      if (Date.now() > end) throw new Error("the server did not close the connection");
      await new Promise((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  describe() {
    return JSON.stringify(this.frames.map((f) => [f.opcode, f.fin,
      f.opcode === 2 ? f.payload.toString("hex") : f.payload.toString().slice(0, 80)]));
  }

  // a frame: opcode, payload; options fin, rsv, mask (false: unmasked),
  // len (a lying length field)
  frame(opcode, payload = "", opts = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    const fin = opts.fin === false ? 0 : 0x80;
    const rsv = (opts.rsv || 0) << 4;
    const masked = opts.mask !== false;
    const len = opts.len !== undefined ? opts.len : data.length;
    let head;
    if (len < 126) {
      head = Buffer.from([fin | rsv | opcode, (masked ? 0x80 : 0) | len]);
    } else if (len <= 0xffff) {
      head = Buffer.alloc(4);
      head[0] = fin | rsv | opcode;
      head[1] = (masked ? 0x80 : 0) | 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = fin | rsv | opcode;
      head[1] = (masked ? 0x80 : 0) | 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    if (!masked) return Buffer.concat([head, data]);
    const mask = crypto.randomBytes(4);
    const body = Buffer.from(data);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    return Buffer.concat([head, mask, body]);
  }

  send(opcode, payload, opts) {
    this.sock.write(this.frame(opcode, payload, opts));
  }

  sendText(s, opts) { this.send(1, s, opts); }
  sendBinary(b, opts) { this.send(2, b, opts); }
  write(bytes) { this.sock.write(bytes); }
  destroy() { this.sock.destroy(); }
}

// An HTTP request, raw: status, headers text and body
function httpRequest(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => s.write(text));
    const chunks = [];
    s.on("data", (d) => chunks.push(d));
    s.on("error", reject);
    s.on("close", () => {
      const all = Buffer.concat(chunks).toString();
      const i = all.indexOf("\r\n\r\n");
      const head = all.slice(0, i);
      let body = all.slice(i + 4);
      if (/transfer-encoding: chunked/i.test(head)) {
        let out = "";
        let rest = body;
        for (;;) {
          const j = rest.indexOf("\r\n");
          const n = parseInt(rest.slice(0, j), 16);
          if (!n) break;
          out += rest.slice(j + 2, j + 2 + n);
          rest = rest.slice(j + 2 + n + 2);
        }
        body = out;
      }
      resolve({ status: Number(head.split(" ")[1]), head, body });
    });
  });
}

module.exports = { RawWs, httpRequest };

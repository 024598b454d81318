// A WebSocket server Shout did not write (the npm ws package), for the client's tests.
// Listens on 127.0.0.1 port 0 and prints "listening PORT" once ready.
//   node ws-peer.mjs                 plain ws://
//   node ws-peer.mjs CERT.pem KEY.pem   wss:// with that certificate
// What a connection gets depends on the request path:
//   /upper      each message answered with its ASCII uppercase, in the type it came in
//   /fragments  the same answer, sent as 5-byte fragments (continuation frames)
//   /report     each message answered with JSON {type, bytes, frames}: how it arrived on the wire
//   /close1008  the first message is answered by a close with 1008 and a reason
import { readFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { WebSocketServer } from 'ws';

const [cert, key] = process.argv.slice(2);
const http = cert ? createHttps({ cert: readFileSync(cert), key: readFileSync(key) }) : createHttp();
const wss = new WebSocketServer({ server: http, maxPayload: 64 * 1024 * 1024 });

function upper(data) {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) {
    if (out[i] >= 0x61 && out[i] <= 0x7a) out[i] -= 0x20;
  }
  return out;
}

// Counts the data frames a client sends by reading the frame headers off the raw socket, beside
// ws's own parser: the wire, not ws's view of it.
function countFrames(socket) {
  const counter = { frames: 0 };
  let pending = Buffer.alloc(0);
  let skip = 0;
  // Before ws's own listener, so a message's frames are counted when ws emits it.
  socket.prependListener('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      if (pending.length < 2) return;
      const opcode = pending[0] & 0x0f;
      const masked = (pending[1] & 0x80) !== 0;
      let length = pending[1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        header = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        header = 10;
      }
      if (masked) header += 4;
      if (pending.length < header) return;
      if (opcode <= 2) counter.frames++;
      pending = pending.subarray(header);
      skip = length;
    }
  });
  return counter;
}

wss.on('connection', (ws, request) => {
  const path = request.url;
  const counter = countFrames(request.socket);
  ws.on('message', (data, isBinary) => {
    const message = Buffer.isBuffer(data) ? data : Buffer.concat(data);
    switch (path) {
      case '/fragments': {
        const reply = upper(message);
        for (let at = 0; at < reply.length || at === 0; at += 5) {
          const last = at + 5 >= reply.length;
          ws.send(reply.subarray(at, at + 5), { binary: isBinary, fin: last });
          if (last) break;
        }
        break;
      }
      case '/report':
        ws.send(JSON.stringify({ type: isBinary ? 'binary' : 'text', bytes: message.length, frames: counter.frames }));
        counter.frames = 0;
        break;
      case '/close1008':
        ws.close(1008, 'no shouting here');
        break;
      default:
        ws.send(upper(message), { binary: isBinary });
    }
  });
});

http.listen(0, '127.0.0.1', () => {
  console.log(`listening ${http.address().port}`);
});

// Where the page stands in its room, counted as docs/rooms.md ("History and resume") says and as
// `shout chat` counts it (ChatPosition): the position line "* [at ROOM N EPOCH]" sets it, a history
// line "* [N] …" moves it to N, and after it every room line received counts one: another member's
// "NICK: TEXT" and the answer to one of the page's own plain lines. Notices ("* …") and the answers
// to commands (OK, ERR, WHO) do not. Answers come in the order lines were sent, so an answer is told
// from a notice or a command's answer by what was sent, not only by how it looks ("* hi" comes back
// as "* HI", which looks like a notice). Pure: no DOM, no socket.
"use strict";

class RoomPosition {
  constructor() {
    this.room = null;
    this.offset = 0;
    this.epoch = null;
    this.pending = [];   // per line sent, in order: its expected uppercase, or null for a command
  }

  get known() { return this.epoch !== null; }

  get resumeLine() { return `/resume ${this.room} ${this.offset} ${this.epoch}`; }

  // A line the page sent on the current socket: its answer is expected in turn.
  sent(text) {
    if (text.trim() === "quit") return;
    this.pending.push(text.startsWith("/") ? null : RoomPosition.upper(text));
  }

  // A new socket answers nothing the old one was sent.
  reset() { this.pending = []; }

  // Takes in one line received; true when it is a room line (it moved the position on).
  observe(line) {
    const head = this.pending.length > 0 ? this.pending[0] : undefined;
    if (typeof head === "string") {
      // Its own answer: exactly its uppercase, or (if the page's uppercasing differs from the
      // server's in some letter) the first line that is neither a notice nor another member's.
      if (line === head || !(line.startsWith("* ") || /^[A-Za-z0-9_-]{1,32}: /.test(line))) {
        this.pending.shift();
        return this.count();
      }
    }

    if (line.startsWith("* [")) { this.place(line); return false; }
    if (head === null && /^(OK |ERR |WHO)/.test(line)) {
      this.pending.shift();
      this.confirmed(line);
      return false;
    }

    if (line.startsWith("* ") || line === "QUIT") return false;
    return this.count();
  }

  count() {
    if (this.known) this.offset++;
    return this.known;
  }

  confirmed(line) {
    const m = /^OK (room|resume) (\S+)$/.exec(line);
    if (m) { this.room = m[2]; this.epoch = null; }   // its numbering comes with its position line
  }

  // "* [at ROOM N EPOCH]" or "* [N] LINE" ("* [lost N] …" says nothing about where it stands).
  place(line) {
    let m;
    if ((m = /^\* \[at (\S+) (\d+) ([A-Za-z0-9]{8})\]$/.exec(line))) {
      this.room = m[1];
      this.offset = Number(m[2]);
      this.epoch = m[3];
    } else if ((m = /^\* \[(\d+)\] /.exec(line)) && this.known) {
      this.offset = Number(m[1]);
    }
  }

  // The server's uppercase: each code point's simple uppercase mapping (one code point for one;
  // a letter whose uppercase is longer, like ß, stays as it is), ı → I and ſ → S as Go does.
  static upper(text) {
    let out = "";
    for (const ch of text) {
      const up = ch.toUpperCase();
      out += [...up].length === 1 ? up : ch;
    }
    return out;
  }
}

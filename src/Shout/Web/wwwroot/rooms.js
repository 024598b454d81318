// Room mode on the page: when the server greets it as a member ("* you are guest1 in lobby …") or
// answers "/who" with "WHO room members…" (only a room server does; any other server shouts "/WHO"
// back), the room view appears: nickname, room, members, other members' lines under their names,
// the room's history marked as such. It keeps the room's position (roomposition.js) and, after a
// drop, resumes on the new socket by itself: the missed lines once, then "resumed in ROOM, N
// missed" (docs/rooms.md). Uses app.js's socket and addMessage; changes nothing when the server is
// not a room server.
"use strict";

(() => {
  const room = document.getElementById("room"), members = document.getElementById("members");
  const current = document.getElementById("room-current"), nickInput = document.getElementById("nick"), roomInput = document.getElementById("room-name");
  let probed = null, inRoomMode = false, myNick = null, quietWho = 0;
  const position = new RoomPosition();

  const show = (kind, who, text) => {
    document.getElementById("empty")?.remove();
    const item = document.createElement("li");
    item.className = `msg ${kind}`;
    if (who !== null) {
      const label = document.createElement("span");
      label.className = "who";
      label.textContent = who;
      item.append(label);
    }
    item.append(document.createTextNode(text));
    messages.append(item);
    while (messages.children.length > 200) messages.firstElementChild.remove();
    messages.scrollTop = messages.scrollHeight;
  };

  const sendCommand = text => { if (socket && socket.readyState === WebSocket.OPEN) { position.sent(text); socket.send(text); } };
  const refreshWho = () => { quietWho++; sendCommand("/who"); };

  const showMembers = (name, nicks) => {
    current.textContent = name;
    if (document.activeElement !== roomInput) roomInput.value = name;
    members.replaceChildren(...nicks.map(nick => {
      const chip = document.createElement("li");
      chip.textContent = nick;
      if (nick === myNick) chip.className = "me";
      return chip;
    }));
  };

  // Resuming after a drop: what the new socket says before "OK resume" (its greeting, the default
  // room's history) is superseded; after it, the missed lines up to the new position.
  let resuming = null;

  const greeting = /^\* you are (\S+) in (\S+) \(\/nick NAME/;
  const enterRoomMode = () => { if (!inRoomMode) { inRoomMode = true; room.hidden = false; } };

  const resumeLine = text => {
    let m;
    if (resuming.phase === "asked") {
      if ((m = /^OK nick (\S+)$/.exec(text))) { myNick = m[1]; nickInput.value = myNick; }
      else if (/^ERR nick /.test(text)) show("notice", null, text.slice(4));
      else if ((m = /^OK resume (\S+)$/.exec(text))) { resuming.phase = "missed"; current.textContent = m[1]; }
      else if (/^ERR (resume:|usage: \/resume)/.test(text)) {
        const room = resuming.room;
        resuming = null;
        show("notice", null, `could not resume (${text.slice(4)}); joining ${room} again`);
        sendCommand("/join " + room);
      }
      return true;
    }

    position.observe(text);   // the missed lines and the new position move it on
    if ((m = /^\* \[lost (\d+)\] (.*)$/.exec(text))) { show("notice", null, `${m[1]} ${m[2]}`); return true; }
    if ((m = /^\* \[\d+\] ([A-Za-z0-9_-]{1,32}): ([\s\S]*)$/.exec(text))) { resuming.missed++; show("member missed", m[1], m[2]); return true; }
    if (/^\* \[at \S+ \d+ [A-Za-z0-9]{8}\]$/.test(text)) {
      show("notice resumed", null, `resumed in ${position.room}, ${resuming.missed} missed`);
      resuming = null;
      return true;
    }

    return read(text);   // a notice or a command's answer among them: as it always reads
  };

  // Returns true when the room view has taken the line.
  const handle = text => {
    if (resuming) return resumeLine(text);
    position.observe(text);
    return read(text);
  };

  const read = text => {
    if (text === "/WHO" && probed === socket) { probed = null; quietWho = Math.max(0, quietWho - 1); return true; }   // not a room server
    const who = /^WHO (\S+)(?: (.*))?$/.exec(text);
    if (who) {
      probed = null;
      enterRoomMode();
      showMembers(who[1], who[2] ? who[2].split(" ") : []);
      if (quietWho > 0) { quietWho--; return true; }
      return false;
    }
    // Only a room server greets (a line server answers with uppercase only): the room view shows at once.
    if (greeting.test(text)) enterRoomMode();
    if (!inRoomMode) return false;
    let m;
    if ((m = /^OK nick (\S+)$/.exec(text))) { myNick = m[1]; nickInput.value = myNick; refreshWho(); show("notice", null, `you are ${myNick}`); return true; }
    if ((m = /^OK room (\S+)$/.exec(text))) { refreshWho(); show("notice", null, `you joined ${m[1]}`); return true; }
    if (/^\* \[at \S+ \d+ [A-Za-z0-9]{8}\]$/.test(text)) return true;   // where the member stands, for /resume: not for reading
    if ((m = /^\* \[\d+\] ([A-Za-z0-9_-]{1,32}): ([\s\S]*)$/.exec(text))) { show("member history", m[1], m[2]); return true; }
    if (text.startsWith("* ")) { refreshWho(); show("notice", null, text.slice(2)); return true; }
    if ((m = /^([A-Za-z0-9_-]{1,32}): ([\s\S]*)$/.exec(text))) { show("member", m[1], m[2]); return true; }
    return false;
  };

  // Each new connection, before anything it says is read (app.js notes "connected" in onopen): in a
  // room with a known position, take the nickname back and resume where the last one stopped;
  // otherwise ask once whether this is a room (the answer decides whether the view shows).
  const opened = () => {
    if (!socket || socket.readyState !== WebSocket.OPEN || socket.roomProbe === true) return;
    socket.roomProbe = true;
    position.reset();
    resuming = null;
    if (inRoomMode && position.known) {
      resuming = { phase: "asked", room: position.room, missed: 0 };
      if (myNick) socket.send("/nick " + myNick);
      socket.send(position.resumeLine);
      refreshWho();
      return;
    }

    probed = socket;
    refreshWho();
    if (inRoomMode && myNick) sendCommand("/nick " + myNick);
  };

  const baseAdd = addMessage;
  // eslint-disable-next-line no-global-assign
  addMessage = (kind, text) => {
    opened();
    if (kind === "you") position.sent(text);   // the composer sends what it shows, right after
    if (kind === "server" && handle(text)) return;
    baseAdd(kind, text);
  };

  document.getElementById("room-nick").addEventListener("submit", event => {
    event.preventDefault();
    if (nickInput.value) sendCommand("/nick " + nickInput.value);
  });
  document.getElementById("room-join").addEventListener("submit", event => {
    event.preventDefault();
    if (roomInput.value) sendCommand("/join " + roomInput.value);
  });
})();

// Room mode on the page: when the server answers "/who" with "WHO room members…" (only a room
// server does; any other server shouts "/WHO" back), the room view appears: nickname, room,
// members, and other members' lines shown under their names. Uses app.js's socket and
// addMessage; changes nothing when the server is not a room server.
"use strict";

(() => {
  const room = document.getElementById("room"), members = document.getElementById("members");
  const current = document.getElementById("room-current"), nickInput = document.getElementById("nick"), roomInput = document.getElementById("room-name");
  let probed = null, inRoomMode = false, myNick = null, quietWho = 0;

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

  const sendCommand = text => { if (socket && socket.readyState === WebSocket.OPEN) socket.send(text); };
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

  // Returns true when the room view has taken the line.
  const handle = text => {
    if (text === "/WHO" && probed === socket) { probed = null; quietWho = Math.max(0, quietWho - 1); return true; }   // not a room server
    const who = /^WHO (\S+)(?: (.*))?$/.exec(text);
    if (who) {
      probed = null;
      if (!inRoomMode) { inRoomMode = true; room.hidden = false; }
      showMembers(who[1], who[2] ? who[2].split(" ") : []);
      if (quietWho > 0) { quietWho--; return true; }
      return false;
    }
    if (!inRoomMode) return false;
    let m;
    if ((m = /^OK nick (\S+)$/.exec(text))) { myNick = m[1]; nickInput.value = myNick; refreshWho(); show("notice", null, `you are ${myNick}`); return true; }
    if ((m = /^OK room (\S+)$/.exec(text))) { refreshWho(); show("notice", null, `you joined ${m[1]}`); return true; }
    if (/^\* \[at \S+ \d+ [a-z2-9]{8}\]$/.test(text)) return true;   // where the member stands, for /resume: not for reading
    if ((m = /^\* \[\d+\] ([A-Za-z0-9_-]{1,32}): ([\s\S]*)$/.exec(text))) { show("member history", m[1], m[2]); return true; }
    if (text.startsWith("* ")) { refreshWho(); show("notice", null, text.slice(2)); return true; }
    if ((m = /^([A-Za-z0-9_-]{1,32}): ([\s\S]*)$/.exec(text))) { show("member", m[1], m[2]); return true; }
    return false;
  };

  const baseAdd = addMessage;
  // eslint-disable-next-line no-global-assign
  addMessage = (kind, text) => { if (kind === "server" && handle(text)) return; baseAdd(kind, text); };

  // Ask each new connection once whether it is a room; the answer decides whether the view shows.
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN && socket.roomProbe !== true) {
      socket.roomProbe = true;
      probed = socket;
      quietWho++;
      socket.send("/who");
      if (inRoomMode && myNick) socket.send("/nick " + myNick);
    }
  }, 100);

  document.getElementById("room-nick").addEventListener("submit", event => {
    event.preventDefault();
    if (nickInput.value) sendCommand("/nick " + nickInput.value);
  });
  document.getElementById("room-join").addEventListener("submit", event => {
    event.preventDefault();
    if (roomInput.value) sendCommand("/join " + roomInput.value);
  });
})();

// Watching one chat as it happens (read-only): chat.watch on the supervisor socket,
// then message.new as they are sent. Each message once (by seq); text via textContent.
import { format, gettext } from "../common/i18n.js";
import { openSupervisorSocket } from "./socket.js";

const list = document.getElementById("watch-transcript");
const chatId = list.dataset.chat;
const shown = new Set([...list.querySelectorAll("li[data-seq]")].map((li) => Number(li.dataset.seq)));
const STATUS = {
  waiting: gettext("Waiting"),
  active: gettext("Active"),
  ended: gettext("Ended"),
  closed: gettext("Closed"),
};

function append(message) {
  if (shown.has(message.seq)) return;
  shown.add(message.seq);
  const item = document.createElement("li");
  item.className = `msg msg-${message.sender}`;
  item.dataset.seq = String(message.seq);
  const author = document.createElement("span");
  author.className = "msg-author";
  author.textContent = message.sender === "system" ? gettext("System") : message.author;
  item.append(author);
  item.append(document.createTextNode(message.attachment ? format(gettext("File: %(name)s"), { name: message.attachment.name }) : message.body));
  // In order of seq, whatever order they arrive in.
  const after = [...list.children].find((li) => Number(li.dataset.seq) > message.seq);
  list.insertBefore(item, after || null);
}

openSupervisorSocket({
  onOpen: (socket) => socket.send(JSON.stringify({ type: "chat.watch", chat: chatId })),
  onFrame: (frame) => {
    if (frame.type === "chat.watched") {
      frame.messages.forEach(append);
      document.getElementById("watch-status").textContent = STATUS[frame.chat.status] || frame.chat.status;
      if (frame.chat.operator) document.getElementById("watch-operator").textContent = frame.chat.operator.name;
    } else if (frame.type === "message.new" && frame.chat === chatId) {
      append(frame.message);
    } else if (frame.type === "chat.claimed" && frame.chat === chatId) {
      document.getElementById("watch-status").textContent = STATUS.active;
      document.getElementById("watch-operator").textContent = frame.operator.name;
    } else if (frame.type === "chat.ended" && frame.chat === chatId) {
      document.getElementById("watch-status").textContent = STATUS.ended;
    } else if (frame.type === "chat.closed" && frame.chat === chatId) {
      document.getElementById("watch-status").textContent = STATUS.closed;
    }
  },
});

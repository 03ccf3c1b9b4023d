// The live connection shared by the widget and the dashboard: one websocket that
// reconnects by itself with backoff. What to resend on reconnect is the caller's
// business (it knows the last sequence number it saw and what is still unacknowledged).
import { gettext, pageLanguage } from "./i18n.js";

export function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // works outside secure contexts, unlike randomUUID
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class LiveSocket {
  constructor(path, { onOpen, onFrame, onStatus, onRefused } = {}) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.onOpen = onOpen || (() => {});
    this.onFrame = onFrame || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onRefused = onRefused || (() => {});
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.everOpened = false;
  }

  connect() {
    this.stopped = false;
    this.onStatus(this.everOpened ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      const again = this.everOpened;
      this.everOpened = true;
      this.onStatus(again ? "back" : "open");
      this.onOpen(again);
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (event.code === 4401 || event.code === 4403) {
        this.stopped = true;
        this.onRefused(event.code);
        return;
      }
      if (this.stopped) return;
      this.onStatus("reconnecting");
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}

export function formatTime(iso) {
  const date = new Date(iso);
  return date.toLocaleTimeString(pageLanguage, { hour: "2-digit", minute: "2-digit" });
}

// Hooks that add to a rendered message (e.g. an attachment card): (li, message) => void.
const messageDecorators = [];
export function decorateMessages(decorate) {
  messageDecorators.push(decorate);
}

// Render one message as an <li>: every piece of text goes in with textContent.
export function messageItem(message, { selfSender }) {
  const li = document.createElement("li");
  li.className = `msg msg-${message.sender}` + (message.sender === selfSender ? " msg-self" : "");
  li.dataset.seq = message.seq ?? "";
  li.dataset.clientId = message.client_id || "";
  if (message.sender !== "system") {
    const author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = message.author || (message.sender === "patron" ? gettext("Patron") : gettext("Librarian"));
    li.append(author);
  }
  const body = document.createElement("span");
  body.className = "msg-body";
  body.textContent = message.body;
  li.append(body);
  for (const decorate of messageDecorators) decorate(li, message);
  const meta = document.createElement("span");
  meta.className = "msg-meta";
  meta.textContent = message.created_at ? formatTime(message.created_at) : gettext("Sending…");
  li.append(meta);
  return li;
}

// Insert ``li`` into ``list`` in sequence order; pending items (no seq yet) stay last.
export function placeMessage(list, li) {
  const seq = Number(li.dataset.seq);
  if (!li.dataset.seq) {
    list.append(li);
    return;
  }
  for (const other of list.children) {
    if (!other.dataset.seq || Number(other.dataset.seq) > seq) {
      list.insertBefore(li, other);
      return;
    }
  }
  list.append(li);
}

// What a sender is told while resendLater retries a message.
export const RETRY_NOTICE = gettext("Not sent yet: the desk could not store it just now. Trying again…");

// An "unavailable" error (docs/protocol.md): the server did nothing, its database or
// Redis being out of reach for a moment. The message stays in its outbox and
// ``resend(item)`` runs after a pause that doubles each time (1 s … 15 s), unless the
// outbox let go of it meanwhile; the server stores a client id once whatever happens.
// False when ``clientId`` is not in the outbox.
export function resendLater(outbox, clientId, resend) {
  const item = clientId ? outbox.get(clientId) : null;
  if (!item) return false;
  item.retryDelay = Math.min((item.retryDelay || 500) * 2, 15000);
  setTimeout(() => {
    if (outbox.get(clientId) === item) resend(item);
  }, item.retryDelay);
  return true;
}

// The patron's chat, inside the widget iframe. The patron's token lives in this
// iframe's own storage (never a cookie: third-party cookies are blocked in many
// browsers) and goes to the server in the socket's first frame.
import { LiveSocket, messageItem, newClientId, placeMessage } from "../common/live.js";
import { setupPatronSide } from "./patron_side.js";

const root = document.getElementById("widget");
const slug = root.dataset.slug;
const maxLength = Number(root.dataset.maxLength);
const sessionKey = `libdesk:chat:${slug}`;
const outboxKey = `libdesk:outbox:${slug}`;

const $ = (id) => document.getElementById(id);
const states = ["state-loading", "state-offline", "state-form", "state-chat"];
const transcript = $("transcript");
const chatStatus = $("chat-status");
const connection = $("connection");
const input = $("message-input");

// Storage that degrades to memory when the browser refuses it.
const memory = new Map();
const store = {
  get(key) {
    try {
      const raw = localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return memory.get(key) ?? null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      memory.set(key, value);
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      memory.delete(key);
    }
  },
};

let session = store.get(sessionKey); // {token, chat}
let lastSeq = 0;
let chatState = null;
let socket = null;
const outbox = new Map((store.get(outboxKey) || []).map((item) => [item.client_id, item]));

function show(stateId) {
  for (const id of states) $(id).hidden = id !== stateId;
  if (stateId === "state-offline") mountOfflineForm(); // tickets: leave a question
}

function saveOutbox() {
  store.set(outboxKey, [...outbox.values()]);
}

function setChatStatus(text) {
  chatStatus.textContent = text;
}

function describeState(chat) {
  if (chat.status === "waiting") {
    const place = chat.position ? ` You are number ${chat.position} in line.` : "";
    const minutes = chat.estimated_wait ? Math.max(1, Math.round(chat.estimated_wait / 60)) : 0;
    const wait = minutes ? ` Estimated wait: about ${minutes} minute${minutes === 1 ? "" : "s"}.` : "";
    return `Waiting for a librarian.${place}${wait}`;
  }
  if (chat.status === "active") return chat.operator ? `You are chatting with ${chat.operator}.` : "";
  return "This chat has ended.";
}

function showEnded() {
  $("composer").hidden = true;
  $("ended").hidden = false;
  setChatStatus("This chat has ended.");
}

function renderMessage(message) {
  if (message.seq && transcript.querySelector(`li[data-seq="${message.seq}"]`)) return;
  if (message.client_id) {
    const pending = transcript.querySelector(`li[data-client-id="${CSS.escape(message.client_id)}"]`);
    if (pending) pending.remove();
    if (outbox.delete(message.client_id)) saveOutbox();
  }
  placeMessage(transcript, messageItem(message, { selfSender: "patron" }));
  lastSeq = Math.max(lastSeq, message.seq || 0);
  transcript.scrollTop = transcript.scrollHeight;
}

function renderPending(item) {
  const li = messageItem(
    { sender: "patron", author: "You", body: item.body, client_id: item.client_id },
    { selfSender: "patron" },
  );
  li.classList.add("msg-pending");
  transcript.append(li);
  transcript.scrollTop = transcript.scrollHeight;
}

function flushOutbox() {
  for (const item of outbox.values()) {
    socket.send({ type: "message.send", client_id: item.client_id, body: item.body });
  }
}

function onFrame(frame) {
  patronSide.onFrame(frame); // issue 7: typing, files, screenshare, rating, deletion
  switch (frame.type) {
    case "welcome":
      chatState = frame.chat;
      show("state-chat");
      for (const message of frame.messages) renderMessage(message);
      for (const item of outbox.values()) {
        if (!transcript.querySelector(`li[data-client-id="${CSS.escape(item.client_id)}"]`)) renderPending(item);
      }
      setChatStatus(describeState(chatState));
      if (chatState.status === "ended" || chatState.status === "closed") showEnded();
      else flushOutbox();
      checkEmailNeeded();
      break;
    case "message.new":
      // A gap (a message that never arrived live): ask for everything after lastSeq.
      if (lastSeq && frame.message.seq > lastSeq + 1) resync();
      renderMessage(frame.message);
      break;
    case "pong":
      if (frame.last_seq && frame.last_seq > lastSeq) resync();
      break;
    case "message.ack":
      if (outbox.delete(frame.client_id)) saveOutbox();
      break;
    case "queue.position":
      if (chatState && chatState.status === "waiting") {
        chatState.position = frame.position;
        chatState.estimated_wait = frame.estimated_wait;
        setChatStatus(describeState(chatState));
      }
      break;
    case "chat.claimed":
      chatState = { ...chatState, status: "active", operator: frame.operator, position: null };
      setChatStatus(describeState(chatState));
      break;
    case "chat.ended":
      if (chatState) chatState.status = "ended";
      showEnded();
      break;
    case "ticket.email_requested":
      askForEmail(frame);
      break;
    case "error":
      if (frame.code === "bad_token") {
        forget();
        return;
      }
      if (frame.client_id && outbox.has(frame.client_id)) {
        // Refused (too long, too fast…): give the text back so nothing typed is lost.
        if (!input.value) input.value = outbox.get(frame.client_id).body;
        outbox.delete(frame.client_id);
        saveOutbox();
        const pending = transcript.querySelector(`li[data-client-id="${CSS.escape(frame.client_id)}"]`);
        if (pending) pending.remove();
      }
      $("send-error").textContent = frame.message;
      break;
    default:
      break;
  }
}

function resync() {
  socket.send({ type: "hello", token: session.token, last_seq: lastSeq });
}

// A ping now and then also catches a lost last message (the pong says the chat's last seq).
setInterval(() => {
  if (socket && session) socket.send({ type: "ping" });
}, 25000);

function connect() {
  socket = new LiveSocket("/ws/patron/", {
    onOpen: () => socket.send({ type: "hello", token: session.token, last_seq: lastSeq }),
    onFrame,
    onStatus: (status) => {
      connection.textContent =
        status === "reconnecting" ? "Reconnecting…" : status === "back" ? "Back online." : "";
    },
    onRefused: () => forget(),
  });
  socket.connect();
}

function forget() {
  if (socket) socket.stop();
  store.remove(sessionKey);
  store.remove(outboxKey);
  outbox.clear();
  session = null;
  lastSeq = 0;
  transcript.replaceChildren();
  $("email-request").replaceChildren();
  $("composer").hidden = false;
  $("ended").hidden = true;
  patronSide.reset();
  start();
}

// Presence, live (issue 4): before a chat starts, the widget watches its department on
// the patron socket (no token) and switches between the form and the offline state.
let watcher = null;
let offlineMessage = "";
let formShown = false;

function applyPresence(status) {
  if (session && session.token) return; // a chat has started: presence no longer matters
  const answering = status.answering || (status.online ? { slug, name: "" } : null);
  if (answering) {
    $("answering").textContent =
      answering.slug !== slug && answering.name
        ? `${answering.name} will answer your question.`
        : "";
    if ($("state-form").hidden) {
      show("state-form");
      if (!formShown) $("question").focus();
    }
    formShown = true;
  } else {
    if (offlineMessage) $("offline-message").textContent = offlineMessage;
    show("state-offline");
  }
}

function watchPresence() {
  if (watcher) return;
  watcher = new LiveSocket("/ws/patron/", {
    onOpen: () => watcher.send({ type: "watch", department: slug }),
    onFrame: (frame) => {
      if (frame.type === "presence") applyPresence(frame);
    },
  });
  watcher.connect();
}

function stopWatching() {
  if (watcher) watcher.stop();
  watcher = null;
}

async function start() {
  if (session && session.token) {
    stopWatching();
    show("state-chat");
    setChatStatus("Loading your conversation…");
    connect();
    return;
  }
  show("state-loading");
  try {
    const response = await fetch(root.dataset.statusUrl, { credentials: "omit" });
    const status = await response.json();
    offlineMessage = status.offline_message;
    applyPresence(status);
  } catch {
    $("offline-message").textContent = "The chat could not be reached. Please try again later.";
    show("state-offline");
  }
  watchPresence();
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("form-error");
  error.textContent = "";
  const question = $("question").value.trim();
  if (!question) {
    error.textContent = "Please type your question.";
    $("question").setAttribute("aria-invalid", "true");
    $("question").focus();
    return;
  }
  $("question").removeAttribute("aria-invalid");
  const page = new URLSearchParams(location.hash.slice(1)).get("page") || "";
  const button = event.submitter || event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch(root.dataset.startUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        name: $("patron-name").value,
        email: $("patron-email").value,
        question,
        client_id: newClientId(),
        page_url: page,
      }),
    });
    const data = await response.json();
    if (!response.ok) {
      error.textContent = data.message || "The chat could not be started.";
      if (data.code === "offline") {
        $("offline-message").textContent = data.message;
        show("state-offline");
      }
      return;
    }
    session = { token: data.token, chat: data.chat };
    stopWatching();
    store.set(sessionKey, session);
    show("state-chat");
    setChatStatus("Waiting for a librarian.");
    connect();
    input.focus();
  } catch {
    error.textContent = "The chat could not be reached. Please try again.";
  } finally {
    button.disabled = false;
  }
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  $("send-error").textContent = "";
  if (!body) return;
  if (body.length > maxLength) {
    $("send-error").textContent = `That message is too long (limit ${maxLength} characters).`;
    return;
  }
  // Into the outbox first: it is sent now if connected, else when the socket returns.
  const item = { client_id: newClientId(), body };
  outbox.set(item.client_id, item);
  saveOutbox();
  renderPending(item);
  input.value = "";
  socket.send({ type: "message.send", client_id: item.client_id, body });
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("end-chat").addEventListener("click", () => {
  socket.send({ type: "chat.end" });
});

$("new-chat").addEventListener("click", () => {
  forget();
});

function requestClose() {
  window.parent.postMessage({ type: "libdesk:close" }, "*");
}
$("close-widget").addEventListener("click", requestClose);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") requestClose();
});

// --- Tickets: the offline question form and the request for an email address ---------------
// Both are cloned from <template>s only when needed (docs/protocol.md, "Tickets").

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, data };
}

function mountOfflineForm() {
  const holder = $("offline-question");
  if (holder.firstElementChild) return;
  holder.append($("offline-form-template").content.cloneNode(true));
  const form = $("offline-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("offline-error");
    error.textContent = "";
    const email = $("offline-email");
    const question = $("offline-question-text");
    for (const field of [email, question]) field.removeAttribute("aria-invalid");
    if (!email.value.trim() || !email.checkValidity()) {
      error.textContent = "Please give an email address we can answer to.";
      email.setAttribute("aria-invalid", "true");
      email.focus();
      return;
    }
    if (!question.value.trim()) {
      error.textContent = "Please type your question.";
      question.setAttribute("aria-invalid", "true");
      question.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { ok, data } = await postJSON(form.dataset.url, {
        name: $("offline-name").value,
        email: email.value.trim(),
        question: question.value.trim(),
        website: $("offline-website").value,
      });
      if (!ok) {
        error.textContent = data.message || "Your question could not be sent. Please try again.";
        return;
      }
      form.hidden = true;
      const sent = $("offline-sent");
      sent.textContent = data.ticket
        ? `Thank you! Your question was sent (reference ${data.ticket}). We will answer by email.`
        : "Thank you! Your question was sent. We will answer by email.";
      sent.hidden = false;
      sent.focus();
    } catch {
      error.textContent = "Your question could not be sent. Please try again.";
    } finally {
      button.disabled = false;
    }
  });
}

function askForEmail({ ticket, department }) {
  const holder = $("email-request");
  if (!holder.firstElementChild) {
    holder.append($("email-request-template").content.cloneNode(true));
    const form = $("email-request-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("email-request-input");
      const error = $("email-request-error");
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      if (!input.value.trim() || !input.checkValidity()) {
        error.textContent = "Please give an email address we can answer to.";
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const { ok, data } = await postJSON(form.dataset.url, { token: session.token, email: input.value.trim() });
        if (!ok) {
          error.textContent = data.message || "Your email address could not be saved.";
          return;
        }
        holder.replaceChildren();
        ($("composer").hidden ? $("new-chat") : $("message-input")).focus();
      } catch {
        error.textContent = "Your email address could not be saved. Please try again.";
      } finally {
        button.disabled = false;
      }
    });
  }
  $("email-request-text").textContent =
    `${department} will follow up on your question (ticket ${ticket}) by email. Where should they write to you?`;
  $("email-request-input").focus();
}

async function checkEmailNeeded() {
  if (!session || !session.token) return;
  try {
    const url = $("email-request-template").content.querySelector("form").dataset.neededUrl;
    const { ok, data } = await postJSON(url, { token: session.token });
    if (ok && data.needed) askForEmail(data);
  } catch {
    // Nothing to ask, or the desk is unreachable: the socket's own retry will bring us back.
  }
}

const patronSide = setupPatronSide({
  send: (frame) => !!socket && socket.send(frame),
  token: () => session && session.token,
  forget: () => forget(),
  newClientId,
});

start();

// --- Email me this transcript (the ended state) ---------------------------------------------
// The patron's token goes in an Authorization header, never a cookie.
$("transcript-request").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("transcript-result");
  const field = $("transcript-email");
  if (!session || !session.token) return;
  const button = event.submitter || event.target.querySelector("button[type=submit]");
  button.disabled = true;
  result.textContent = "Sending…";
  try {
    const response = await fetch(root.dataset.transcriptUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ email: field.value.trim() }),
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      field.removeAttribute("aria-invalid");
      result.textContent = `A copy of this chat is on its way to ${data.email}.`;
    } else {
      if (data.code === "no_email" || data.code === "bad_email") {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
      result.textContent =
        data.code === "no_email" ? "Please type your email address." : data.message || "The copy could not be sent.";
    }
  } catch {
    result.textContent = "The copy could not be sent. Please try again.";
  } finally {
    button.disabled = false;
  }
});
$("new-chat").addEventListener("click", () => {
  $("transcript-result").textContent = "";
  $("transcript-email").value = "";
});

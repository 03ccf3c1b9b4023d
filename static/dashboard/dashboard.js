// The Chat Dashboard: Patron Chats, Internal Chat, Departments and the open
// conversation, all live over the staff socket. Patron text goes in with textContent.
import { format, gettext } from "../common/i18n.js";
import { LiveSocket, messageItem, newClientId, placeMessage, resendLater, RETRY_NOTICE } from "../common/live.js";

const $ = (id) => document.getElementById(id);
const frameListeners = new Set();
const baseTitle = document.title;

const waiting = new Map(); // chat id -> summary
const mine = new Map(); // chat id -> summary
const transcripts = new Map(); // chat id -> Map(seq -> message)
const outbox = new Map(); // client id -> {chat, body}
let me = null;
let current = null;
let openWhenReady = null;
let socket = null;
let heartbeat = null;
let alertsOn = false;
let departments = [];
const extraCounts = new Map(); // module name -> how many items need attention (title count)
let lastActivity = 0;
let chosenPresence = null; // Online/Away/Offline chosen while not connected: sent once connected

// --- Small helpers ---------------------------------------------------------------------

// A chat's status as the conversation header says it (the frames carry the code).
const STATUS_LABELS = {
  waiting: gettext("waiting"),
  active: gettext("active"),
  ended: gettext("ended"),
  closed: gettext("closed"),
};

// A notice that describes a passing situation ("Nobody else is online to transfer to")
// says when it is over: `until()` is asked after every frame (the departments, the open
// chat…), and it goes after `seconds` anyway. News about a chat goes when the chat is
// opened (`aboutChat`); any notice goes when another replaces it.
const NOTICE_SECONDS = 30;
let noticeWatch = null; // { until, timer } of the notice shown, if it watches

function notice(text, aboutChat = "", { until = null, seconds = 0 } = {}) {
  if (noticeWatch) clearTimeout(noticeWatch.timer);
  noticeWatch = null;
  $("desk-notice").textContent = text;
  $("desk-notice").dataset.chat = aboutChat; // a notice about a chat goes when it is opened
  if (text && (until || seconds)) {
    const watch = { until, timer: 0 };
    if (seconds) watch.timer = setTimeout(() => noticeWatch === watch && notice(""), seconds * 1000);
    noticeWatch = watch;
  }
}

function checkNotice() {
  if (noticeWatch && noticeWatch.until && noticeWatch.until()) notice("");
}

function lastSeqOf(chatId) {
  const messages = transcripts.get(chatId);
  if (!messages || !messages.size) return 0;
  return Math.max(...messages.keys());
}

function updateTitle() {
  let count = waiting.size;
  for (const extra of extraCounts.values()) count += extra;
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
}

function alert(text, aboutChat = "") {
  notice(text, aboutChat); // the visual equivalent of every sound
  if (alertsOn) {
    const sound = $("alert-sound");
    sound.currentTime = 0;
    sound.play().catch(() => {});
  }
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    new Notification("LibDesk", { body: text });
  }
}

// --- Lists -------------------------------------------------------------------------------

function chatListItem(summary, { claimable }) {
  const li = document.createElement("li");
  li.className = "chat-item";
  li.dataset.chat = summary.id;
  const title = document.createElement("p");
  title.className = "chat-item-title";
  const name = document.createElement("strong");
  name.textContent = summary.patron_name;
  const dept = document.createElement("span");
  dept.className = "chat-item-dept";
  dept.textContent = ` · ${summary.department.name}`;
  title.append(name, dept);
  if (summary.language) {
    // The patron's language, in its own name (issue 19).
    const language = document.createElement("span");
    language.className = "chat-item-lang";
    language.lang = summary.language.code;
    language.textContent = summary.language.name;
    title.append(" · ", language);
  }
  li.append(title);
  if (summary.preview) {
    const preview = document.createElement("p");
    preview.className = "chat-item-preview";
    preview.textContent = summary.preview;
    li.append(preview);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = claimable ? "button primary" : "button";
  if (claimable) {
    button.textContent = gettext("Claim Chat");
    button.addEventListener("click", () => {
      openWhenReady = summary.id;
      socket.send({ type: "chat.claim", chat: summary.id });
    });
  } else {
    const away = summary.operator && me && summary.operator.id !== me.id;
    button.textContent = summary.status === "ended" ? gettext("Open (ended)") : away ? gettext("Open (transferred)") : gettext("Open");
    if (summary.id === current) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => openChat(summary.id));
  }
  const describedBy = `${claimable ? "w" : "m"}-${summary.id}`;
  name.id = describedBy;
  button.setAttribute("aria-describedby", describedBy);
  li.append(button);
  return li;
}

function renderLists() {
  const waitingList = $("waiting-list");
  waitingList.replaceChildren(...[...waiting.values()].map((s) => chatListItem(s, { claimable: true })));
  $("waiting-empty").hidden = waiting.size > 0;
  const mineList = $("mine-list");
  mineList.replaceChildren(...[...mine.values()].map((s) => chatListItem(s, { claimable: false })));
  $("mine-empty").hidden = mine.size > 0;
  updateTitle();
}

// Ask the Internal Chat module (internal.js) to start a chat with a department or a colleague.
function requestInternal(target) {
  document.dispatchEvent(new CustomEvent("libdesk:internal-start", { detail: target }));
}

function renderDepartments(list_) {
  departments = list_;
  const list = $("department-list");
  list.replaceChildren(
    ...departments.map((department) => {
      const li = document.createElement("li");
      li.className = department.online ? "dept online" : "dept offline";
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.setAttribute("aria-hidden", "true");
      let name;
      if (department.online) {
        // An online department's name starts an Internal Chat with it.
        name = document.createElement("button");
        name.type = "button";
        name.className = "link-button dept-name";
        name.addEventListener("click", () => requestInternal({ department: department.id, label: department.name }));
      } else {
        name = document.createElement("span");
        name.className = "dept-name";
      }
      name.textContent = department.name;
      const state = document.createElement("span");
      state.className = "dept-state";
      state.textContent = " " + (department.online ? gettext("online:") : gettext("offline"));
      li.append(dot, name, state);
      const people = department.online_operators || [];
      people.forEach((person, index) => {
        // Each person with their comma: the list is a wrapping flex row (desk.css).
        const entry = document.createElement("span");
        if (me && person.id === me.id) {
          entry.textContent = format(gettext("%(name)s (you)"), { name: person.name });
        } else {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "link-button";
          button.textContent = person.name;
          button.setAttribute("aria-label", format(gettext("Internal chat with %(name)s"), { name: person.name }));
          button.addEventListener("click", () => requestInternal({ operator: person.id, label: person.name }));
          entry.append(button);
        }
        if (index < people.length - 1) entry.append(",");
        li.append(entry);
      });
      return li;
    }),
  );
}

function setPresence(status) {
  for (const radio of document.querySelectorAll("input[name=presence]")) radio.checked = radio.value === status;
}

// --- The open conversation ---------------------------------------------------------------

function summaryOf(chatId) {
  return mine.get(chatId) || waiting.get(chatId) || null;
}

function renderConversation() {
  const summary = current ? summaryOf(current) : null;
  $("conversation").hidden = !summary;
  $("no-conversation").hidden = !!summary;
  if (!summary) return;
  $("conversation-title").textContent = summary.patron_name;
  $("conversation-meta").textContent = `${summary.department.name} · ${STATUS_LABELS[summary.status] || summary.status}`;
  if (summary.language) {
    const language = document.createElement("span");
    language.id = "chat-language";
    language.lang = summary.language.code;
    language.textContent = summary.language.name;
    $("conversation-meta").append(" · ", language);
  }
  const ownsIt = summary.operator && me && summary.operator.id === me.id;
  const active = summary.status === "active" && ownsIt;
  const transferredAway = summary.status === "active" && summary.operator && !ownsIt && mine.has(current);
  $("end-chat").hidden = !(summary.status === "active" && ownsIt);
  $("close-chat").hidden = summary.status !== "ended" || (summary.operator && !ownsIt);
  $("composer").hidden = !active;
  $("conversation-state").textContent =
    summary.status === "ended"
      ? gettext("This chat has ended. Record it, then Close Chat.")
      : transferredAway
        ? format(gettext("Transferred to %(name)s: you can read this chat but no longer write in it."), {
            name: summary.operator.name,
          })
        : "";
  document.dispatchEvent(new CustomEvent("libdesk:conversation-rendered", { detail: { chat: current } }));
  const list = $("transcript");
  list.replaceChildren();
  for (const message of [...(transcripts.get(current) || new Map()).values()].sort((a, b) => a.seq - b.seq)) {
    list.append(messageItem(message, { selfSender: "operator" }));
  }
  for (const item of outbox.values()) {
    if (item.chat === current) {
      const li = messageItem({ sender: "operator", author: gettext("You"), body: item.body, client_id: item.client_id }, { selfSender: "operator" });
      li.classList.add("msg-pending");
      list.append(li);
    }
  }
  list.scrollTop = list.scrollHeight;
}

function openChat(chatId) {
  current = chatId;
  if ($("desk-notice").dataset.chat === chatId) notice(""); // read now: not news any more
  else checkNotice(); // another chat: is the notice about the one before over?
  document.dispatchEvent(new CustomEvent("libdesk:chat-opened", { detail: { chat: chatId } }));
  socket.send({ type: "chat.open", chat: chatId, after_seq: lastSeqOf(chatId) });
  renderLists();
  renderConversation();
}

// ``announce``: a message that may need the librarian's attention (live, or missed and
// fetched again); a history they asked for (Claim Chat, accepting a transfer, opening a
// chat) announces nothing: it is their own action.
function addMessage(chatId, message, { announce = true } = {}) {
  if (!transcripts.has(chatId)) transcripts.set(chatId, new Map());
  const messages = transcripts.get(chatId);
  if (messages.has(message.seq)) return;
  messages.set(message.seq, message);
  if (message.client_id) outbox.delete(message.client_id);
  if (chatId === current) {
    const list = $("transcript");
    const pending = list.querySelector(`li[data-client-id="${CSS.escape(message.client_id || "-")}"]`);
    if (pending) pending.remove();
    placeMessage(list, messageItem(message, { selfSender: "operator" }));
    list.scrollTop = list.scrollHeight;
  } else if (announce && message.sender === "patron" && mine.has(chatId)) {
    alert(format(gettext("New message from %(name)s"), { name: mine.get(chatId).patron_name }), chatId);
  }
}

// --- Frames ------------------------------------------------------------------------------

function onFrame(frame) {
  // Once this frame is handled (here and by the extension modules): is the notice over?
  if (noticeWatch) queueMicrotask(checkNotice);
  for (const listener of frameListeners) listener(frame);
  switch (frame.type) {
    case "dashboard.state": {
      me = frame.operator;
      setPresence(chosenPresence || me.status);
      if (chosenPresence) socket.send({ type: "presence.set", status: chosenPresence });
      chosenPresence = null;
      renderDepartments(frame.departments);
      waiting.clear();
      for (const summary of frame.waiting) waiting.set(summary.id, summary);
      mine.clear();
      for (const summary of frame.mine) mine.set(summary.id, summary);
      if (current && !summaryOf(current)) current = null;
      if (current) socket.send({ type: "chat.open", chat: current, after_seq: lastSeqOf(current) });
      for (const item of outbox.values()) {
        socket.send({ type: "message.send", chat: item.chat, client_id: item.client_id, body: item.body });
      }
      clearInterval(heartbeat);
      heartbeat = setInterval(() => socket.send({ type: "ping" }), frame.heartbeat_seconds * 1000);
      renderLists();
      renderConversation();
      break;
    }
    case "chat.waiting":
      waiting.set(frame.chat.id, frame.chat);
      renderLists();
      alert(
        format(gettext("New chat from %(name)s in %(department)s"), {
          name: frame.chat.patron_name,
          department: frame.chat.department.name,
        }),
        frame.chat.id,
      );
      break;
    case "chat.claimed": {
      // Claimed (here or by a colleague): "New chat from …" is not news any more.
      if ($("desk-notice").dataset.chat === frame.chat) notice("");
      const summary = waiting.get(frame.chat);
      waiting.delete(frame.chat);
      const held = mine.get(frame.chat);
      if (held && me && frame.operator.id !== me.id) {
        // Transferred away: a colleague claimed it. Read-only here from now on.
        held.operator = frame.operator;
      }
      if (me && frame.operator.id === me.id && summary) {
        mine.set(frame.chat, { ...summary, status: "active", operator: frame.operator });
      }
      if (mine.has(frame.chat) && me && frame.operator.id === me.id && !transcripts.has(frame.chat)) {
        socket.send({ type: "chat.open", chat: frame.chat, after_seq: 0 });
      }
      renderLists();
      if (frame.chat === current) renderConversation();
      break;
    }
    case "chat.opened": {
      // A history's summary carries no preview: the list keeps the question it showed.
      const known = mine.get(frame.chat.id) || waiting.get(frame.chat.id);
      const summary = frame.chat.preview || !known ? frame.chat : { ...frame.chat, preview: known.preview };
      // A chat already held here fetched again after a gap: what was missed is news.
      const resync = transcripts.has(summary.id) && openWhenReady !== summary.id;
      if (summary.operator && me && summary.operator.id === me.id && summary.status !== "closed") {
        mine.set(summary.id, summary);
      }
      for (const message of frame.messages) addMessage(summary.id, message, { announce: resync });
      if (openWhenReady === summary.id) {
        openWhenReady = null;
        current = summary.id;
        if (!mine.has(summary.id)) mine.set(summary.id, summary);
        document.dispatchEvent(new CustomEvent("libdesk:chat-opened", { detail: { chat: summary.id } }));
        renderLists();
        renderConversation();
        $("message-input").focus();
      } else {
        if (current === summary.id && !mine.has(summary.id)) mine.set(summary.id, summary);
        renderLists();
        if (current === summary.id) renderConversation();
      }
      break;
    }
    case "message.new": {
      // A gap (a message that never arrived live): ask for everything after the last seq.
      const last = lastSeqOf(frame.chat);
      if (last && frame.message.seq > last + 1) socket.send({ type: "chat.open", chat: frame.chat, after_seq: last });
      addMessage(frame.chat, frame.message);
      break;
    }
    case "pong":
      // The last seq of each chat this socket follows: a lost last message shows here
      // (within one ping) and is fetched like a gap, for the chats whose transcript we hold.
      for (const [chatId, seq] of Object.entries(frame.last_seq || {})) {
        if (transcripts.has(chatId) && seq > lastSeqOf(chatId)) {
          socket.send({ type: "chat.open", chat: chatId, after_seq: lastSeqOf(chatId) });
        }
      }
      break;
    case "message.ack":
      outbox.delete(frame.client_id);
      break;
    case "chat.ended": {
      waiting.delete(frame.chat);
      const summary = mine.get(frame.chat);
      if (summary) {
        summary.status = "ended";
        if (frame.by === "patron") alert(format(gettext("%(name)s ended the chat"), { name: summary.patron_name }), frame.chat);
        // The place where Reference Analytics (and anything else) hooks in after End Chat.
        document.dispatchEvent(new CustomEvent("libdesk:chat-ended", { detail: { chat: frame.chat, by: frame.by } }));
      }
      renderLists();
      if (frame.chat === current) renderConversation();
      break;
    }
    case "chat.closed":
      mine.delete(frame.chat);
      transcripts.delete(frame.chat);
      if (current === frame.chat) current = null;
      renderLists();
      renderConversation();
      break;
    case "presence.changed":
      // The socket leaves out what is older than what this page shows (`as_of`).
      if (me && frame.operator && frame.operator.id === me.id) {
        me = frame.operator;
        setPresence(me.status);
        if (frame.reason === "idle") {
          alert(gettext("You were set to Away after a while without activity. Choose Online when you are back."));
        } else if (frame.reason === "shift_end") {
          alert(gettext("Your shift has ended: you are now Offline."));
        }
      }
      if (frame.departments) renderDepartments(frame.departments);
      break;
    case "departments.changed":
      renderDepartments(frame.departments);
      break;
    case "error":
      if (
        frame.code === "unavailable" &&
        resendLater(outbox, frame.client_id, (item) =>
          socket.send({ type: "message.send", chat: item.chat, client_id: item.client_id, body: item.body }),
        )
      ) {
        notice(RETRY_NOTICE);
        break;
      }
      if (frame.client_id) {
        outbox.delete(frame.client_id);
        renderConversation();
      }
      if (frame.code === "already_claimed" || frame.code === "chat_limit") openWhenReady = null;
      notice(frame.message);
      break;
    default:
      break;
  }
}

// --- Controls ----------------------------------------------------------------------------

for (const radio of document.querySelectorAll("input[name=presence]")) {
  radio.addEventListener("change", () => {
    if (!radio.checked) return;
    if (socket.send({ type: "presence.set", status: radio.value })) return;
    // Not connected yet (or again): kept, and sent as soon as the desk answers.
    chosenPresence = radio.value;
    const label = radio.closest("label").textContent.trim();
    notice(format(gettext("You will be %(status)s as soon as the desk is connected."), { status: label }), "", {
      until: () => chosenPresence === null, // sent: the desk answered
    });
  });
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("message-input");
  const body = input.value.trim();
  if (!body || !current) return;
  const item = { chat: current, client_id: newClientId(), body };
  outbox.set(item.client_id, item);
  input.value = "";
  renderConversation();
  socket.send({ type: "message.send", chat: item.chat, client_id: item.client_id, body });
  input.focus();
});

$("message-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("end-chat").addEventListener("click", () => {
  if (current) socket.send({ type: "chat.end", chat: current });
});

$("close-chat").addEventListener("click", () => {
  if (current) socket.send({ type: "chat.close", chat: current });
});

$("enable-alerts").addEventListener("click", async () => {
  alertsOn = true;
  const sound = $("alert-sound");
  sound.muted = true;
  await sound.play().catch(() => {});
  sound.pause();
  sound.muted = false;
  if ("Notification" in window && Notification.permission === "default") {
    await Notification.requestPermission().catch(() => {});
  }
  $("enable-alerts").textContent = gettext("Sound and notifications on");
  $("enable-alerts").setAttribute("aria-pressed", "true");
});

// Activity keeps an Online librarian from being set Away (the server decides idleness).
function reportActivity() {
  const now = Date.now();
  if (now - lastActivity < 30000 || !socket) return;
  lastActivity = now;
  socket.send({ type: "presence.activity" });
}
for (const kind of ["keydown", "pointerdown", "focus"]) {
  window.addEventListener(kind, reportActivity, { capture: true, passive: true });
}

socket = new LiveSocket("/ws/staff/", {
  onFrame,
  onStatus: (status) => {
    $("connection").textContent =
      status === "open" || status === "back" ? gettext("Connected") : status === "reconnecting" ? gettext("Reconnecting…") : gettext("Connecting…");
  },
  onRefused: () => {
    $("connection").textContent = gettext("Your session has ended. Please log in again.");
  },
});
socket.connect();

// --- The extension API (docs/protocol.md, "Dashboard extension points") ------------------
// Modules registered by other apps import this object; it is the dashboard's whole
// public surface: read the open chat, send a frame, hear frames, show a notice.
export const desk = {
  get operator() {
    return me;
  },
  get currentChat() {
    return current ? summaryOf(current) : null;
  },
  chat: (chatId) => summaryOf(chatId),
  transcript: (chatId) => [...(transcripts.get(chatId) || new Map()).values()].sort((a, b) => a.seq - b.seq),
  send: (frame) => socket.send(frame),
  onFrame(listener) {
    frameListeners.add(listener);
    return () => frameListeners.delete(listener);
  },
  // notice(text, aboutChat, { until, seconds }): see notice() above.
  notice,
  NOTICE_SECONDS,
  alert,
  // Issue 4: presence, internal chat and transfers build on these.
  get departments() {
    return departments;
  },
  openChat,
  claim(chatId) {
    openWhenReady = chatId;
    socket.send({ type: "chat.claim", chat: chatId });
  },
  setCount(name, count) {
    extraCounts.set(name, count);
    updateTitle();
  },
  insertText(text) {
    const input = $("message-input");
    input.value = text;
    input.focus();
  },
};

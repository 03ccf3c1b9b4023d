// Internal Chat (issue 4): staff-to-staff conversations, listed below Patron Chats with the
// same alert and title count, and opened in the main pane as a patron chat is (issue 20).
// Started from the Departments section (an online department's name, or a colleague's).
// Each operator archives their own (Archive); the Archived view lists them, to read
// again or Unarchive, in the same pane. Text goes in with textContent only.
import { format, gettext } from "../common/i18n.js";
import { desk } from "./dashboard.js";
import { el } from "../common/dom.js";
import { describe, isParticipant as isParticipantFor, label as labelFor, renderArchiveList } from "./internal_items.js";
import { messageItem, newClientId, placeMessage, resendLater } from "../common/live.js";

const $ = (id) => document.getElementById(id);
const chats = new Map(); // internal id -> summary, of the chats in my Internal Chat list
const archived = new Map(); // internal id -> summary, of my archived chats seen here
let archiveView = null; // {chats, total, shown}: the Archived view, while it is shown
const messages = new Map(); // internal id -> Map(seq -> message)
const outbox = new Map(); // client id -> {internal, body, client_id}
const unread = new Set();
let current = null; // internal id open in the panel
let draft = null; // {department | operator, label, about}: a chat not started yet
let openWhenReady = false;

// --- The panel (built here: the template only has the list) ------------------------------

const section = $("internal-list").closest("section");
const empty = section.querySelector("p.empty");
// The main pane, beside the lists (issue 20): next to the open patron chat on a wide
// screen, below it on a narrower one (.dash-grid.internal-open, desk.css), so the
// procedure's "agree in an internal chat, then transfer" needs no scrolling of the lists.
const grid = document.querySelector(".dash-grid");
const panel = el("section", { id: "internal-panel", className: "conversation internal-pane", hidden: true, "aria-labelledby": "internal-title" });
const title = el("h2", { id: "internal-title", className: "internal-title", tabIndex: -1 });
const meta = el("p", { id: "internal-meta", className: "meta", role: "status" });
const log = el("div", { className: "transcript-log", role: "log", "aria-live": "polite", "aria-label": gettext("Internal conversation") });
const list = el("ol", { id: "internal-transcript", className: "transcript internal-transcript" });
log.append(list);
const aboutBox = el("label", { className: "internal-about-choice", hidden: true });
const aboutCheck = el("input", { type: "checkbox", id: "internal-about-check" });
const aboutText = el("span");
aboutBox.append(aboutCheck, " ", aboutText);
const aboutButton = el("button", { type: "button", className: "button", hidden: true }, gettext("Read the patron chat"));
const aboutLog = el("div", { className: "transcript-log", role: "log", "aria-label": gettext("Patron chat transcript"), hidden: true });
const aboutList = el("ol", { className: "transcript" });
aboutLog.append(aboutList);
const form = el("form", { className: "composer", autocomplete: "off" });
const input = el("textarea", { id: "internal-input", rows: 2 });
form.append(
  el("label", { for: "internal-input" }, gettext("Write to colleague")),
  input,
  el(
    "div",
    { className: "composer-actions" },
    el("button", { type: "submit", className: "button primary" }, gettext("Send to colleague")),
  ),
);
const closeButton = el("button", { type: "button", className: "button" }, gettext("Close internal chat"));
const archiveButton = el("button", { type: "button", className: "button" }, gettext("Archive"));
const unarchiveButton = el("button", { type: "button", className: "button" }, gettext("Unarchive"));
const backButton = el("button", { type: "button", className: "button" }, gettext("Back to Archived"));
const hideButton = el("button", { type: "button", className: "button" }, gettext("Hide"));
// The Archived view: the same pane, a list instead of a conversation.
const archiveList = el("ul", { id: "internal-archived-list", className: "chat-list", "aria-label": gettext("Archived internal chats") });
panel.append(
  title,
  meta,
  aboutBox,
  aboutButton,
  aboutLog,
  log,
  archiveList,
  form,
  el("div", { className: "composer-actions" }, closeButton, archiveButton, unarchiveButton, backButton, hideButton),
);
grid.append(panel);

// --- Helpers --------------------------------------------------------------------------------

function me() {
  return desk.operator;
}

function label(summary) {
  return labelFor(summary, me());
}

function isParticipant(summary) {
  return isParticipantFor(summary, me());
}

function summaryOf(id) {
  return chats.get(id) || archived.get(id);
}

function isArchived(id) {
  return !chats.has(id) && archived.has(id);
}

function canWrite(summary) {
  if (!me() || summary.closed || isArchived(summary.id)) return false;
  if (summary.created_by.id === me().id) return true;
  return !summary.answered_by || summary.answered_by.id === me().id;
}

function updateCount() {
  desk.setCount("internal", unread.size);
}

function lastSeq(id) {
  const map = messages.get(id);
  return map && map.size ? Math.max(...map.keys()) : 0;
}

function renderList() {
  const items = [...chats.values()].map((summary) => {
    const li = el("li", { className: "chat-item" + (unread.has(summary.id) ? " unread" : "") });
    li.dataset.internal = summary.id;
    const name = el("strong", { id: `i-${summary.id}` }, label(summary));
    li.append(el("p", { className: "chat-item-title" }, name));
    const details = describe(summary);
    if (unread.has(summary.id)) details.push(gettext("New messages"));
    if (details.length) li.append(el("p", { className: "chat-item-preview" }, details.join(" · ")));
    const button = el("button", { type: "button", className: "button" }, gettext("Open"));
    button.setAttribute("aria-describedby", name.id);
    if (summary.id === current) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => open(summary.id));
    const archive = el("button", { type: "button", className: "button" }, gettext("Archive"));
    archive.setAttribute("aria-describedby", name.id);
    archive.addEventListener("click", () => desk.send({ type: "internal.archive", internal: summary.id }));
    li.append(el("div", { className: "chat-item-actions" }, button, archive));
    return li;
  });
  $("internal-list").replaceChildren(...items);
  if (empty) empty.hidden = chats.size > 0;
  updateCount();
}

function showOnly(...shown) {
  for (const node of [aboutBox, aboutButton, aboutLog, log, archiveList, form, closeButton, archiveButton, unarchiveButton, backButton]) {
    node.hidden = !shown.includes(node);
  }
}

function renderPanel() {
  panel.hidden = !current && !draft && !archiveView;
  grid.classList.toggle("internal-open", !panel.hidden);
  if (panel.hidden) return;
  if (!current && !draft) {
    title.textContent = gettext("Archived internal chats");
    showOnly(archiveList);
    renderArchiveList(archiveList, meta, archiveView, { viewer: me(), open });
    return;
  }
  aboutLog.hidden = true;
  archiveList.hidden = true;
  log.hidden = false;
  // Each control is hidden or shown once per render: hiding a focused one even for a
  // moment loses the keyboard's place (a layout read in between blurs it).
  if (draft) {
    archiveButton.hidden = unarchiveButton.hidden = backButton.hidden = true;
    title.textContent = format(gettext("Internal chat with %(name)s"), { name: draft.label });
    meta.textContent = gettext("Explain the question; your colleague sees it at once.");
    const patron = desk.currentChat;
    aboutBox.hidden = !patron || patron.status !== "active";
    if (patron) aboutText.textContent = format(gettext("About the chat with %(name)s"), { name: patron.patron_name });
    aboutCheck.checked = !aboutBox.hidden;
    aboutButton.hidden = true;
    form.hidden = false;
    closeButton.hidden = true;
    list.replaceChildren();
    return;
  }
  const summary = summaryOf(current);
  aboutBox.hidden = true;
  title.textContent = label(summary);
  const answered = summary.answered_by
    ? format(gettext("Answered by %(name)s."), { name: summary.answered_by.name })
    : gettext("Waiting for an answer.");
  const inArchive = isArchived(current);
  meta.textContent = inArchive
    ? summary.closed
      ? gettext("Archived and closed. You can read it.")
      : gettext("Archived. You can read it; a new message brings it back to your list.")
    : summary.closed
      ? gettext("This internal chat is closed.")
      : canWrite(summary)
        ? answered
        : format(gettext("%(answered)s You can read it."), { answered });
  aboutButton.hidden = !summary.about;
  form.hidden = !canWrite(summary);
  closeButton.hidden = summary.closed || !canWrite(summary);
  archiveButton.hidden = inArchive;
  unarchiveButton.hidden = !inArchive;
  backButton.hidden = !archiveView;
  list.replaceChildren();
  for (const message of [...(messages.get(current) || new Map()).values()].sort((a, b) => a.seq - b.seq)) {
    list.append(item(message));
  }
  for (const pending of outbox.values()) {
    if (pending.internal === current) {
      const li = item({ author: { name: gettext("You") }, body: pending.body, client_id: pending.client_id });
      li.classList.add("msg-pending");
      list.append(li);
    }
  }
  log.scrollTop = log.scrollHeight;
}

// A keyboard user's focus, when the control they pressed has gone (hidden or redrawn):
// to ``fallback`` rather than back to the top of the page.
function keepFocus(fallback) {
  const focused = document.activeElement;
  if (!focused || focused === document.body || !focused.isConnected || focused.closest("[hidden]")) fallback.focus();
}

function item(message) {
  const self = me() && message.author && message.author.id === me().id;
  return messageItem(
    { ...message, sender: self ? "operator" : "colleague", author: message.author ? message.author.name : "" },
    { selfSender: "operator" },
  );
}

function open(id) {
  draft = null;
  current = id;
  unread.delete(id);
  if ($("desk-notice").dataset.chat === id) desk.notice(""); // read now: not news any more
  openWhenReady = true;
  desk.send({ type: "internal.open", internal: id, after_seq: lastSeq(id) });
  renderList();
  renderPanel();
}

function addMessage(id, message) {
  if (!messages.has(id)) messages.set(id, new Map());
  const map = messages.get(id);
  if (map.has(message.seq)) return false;
  map.set(message.seq, message);
  if (message.client_id) outbox.delete(message.client_id);
  const summary = summaryOf(id);
  if (summary) summary.last_seq = Math.max(summary.last_seq, message.seq);
  if (id === current && !panel.hidden) {
    const pending = list.querySelector(`li[data-client-id="${CSS.escape(message.client_id || "-")}"]`);
    if (pending) pending.remove();
    placeMessage(list, item(message));
    log.scrollTop = log.scrollHeight;
  }
  return true;
}

// --- Frames ---------------------------------------------------------------------------------

desk.onFrame((frame) => {
  switch (frame.type) {
    case "dashboard.state":
      chats.clear();
      for (const summary of frame.internal || []) chats.set(summary.id, summary);
      if (current && !summaryOf(current)) current = null;
      if (archiveView) desk.send({ type: "internal.list_archived" });
      if (current) desk.send({ type: "internal.open", internal: current, after_seq: lastSeq(current) });
      for (const pending of outbox.values()) {
        desk.send({ type: "internal.send", internal: pending.internal, client_id: pending.client_id, body: pending.body });
      }
      queueMicrotask(() => {
        renderList(); // after the dashboard knows who I am
        renderPanel();
      });
      break;
    case "internal.started": {
      const summary = frame.internal;
      const isNew = !chats.has(summary.id);
      chats.set(summary.id, summary);
      if (isNew && me() && summary.created_by.id !== me().id) {
        unread.add(summary.id);
        desk.alert(
          summary.to_department
            ? format(gettext("Internal chat from %(name)s to %(to)s"), { name: summary.created_by.name, to: summary.to_label })
            : format(gettext("Internal chat from %(name)s"), { name: summary.created_by.name }),
          summary.id,
        );
      }
      renderList();
      break;
    }
    case "internal.opened": {
      if (isArchived(frame.internal.id)) archived.set(frame.internal.id, frame.internal);
      else chats.set(frame.internal.id, frame.internal);
      for (const message of frame.messages) addMessage(frame.internal.id, message);
      if (openWhenReady && (current === frame.internal.id || draft)) {
        draft = null;
        current = frame.internal.id;
        openWhenReady = false;
      }
      renderList();
      if (current === frame.internal.id) renderPanel();
      break;
    }
    case "internal.message": {
      if (!chats.has(frame.internal)) break;
      const added = addMessage(frame.internal, frame.message);
      const fromOther = me() && frame.message.author && frame.message.author.id !== me().id;
      if (added && fromOther && (frame.internal !== current || panel.hidden || document.hidden)) {
        unread.add(frame.internal);
        desk.alert(format(gettext("New internal message from %(name)s"), { name: frame.message.author.name }), frame.internal);
      }
      renderList();
      break;
    }
    case "internal.ack":
      outbox.delete(frame.client_id);
      break;
    case "internal.answered": {
      const summary = chats.get(frame.internal);
      if (!summary) break;
      summary.answered_by = frame.by;
      if (me() && frame.by.id !== me().id && summary.created_by.id !== me().id) {
        desk.notice(
          format(gettext("%(name)s took the internal chat from %(from)s."), { name: frame.by.name, from: summary.created_by.name }),
        );
      }
      renderList();
      if (current === frame.internal) renderPanel();
      break;
    }
    case "internal.closed": {
      // Its two colleagues keep it, read-only, until each archives it; the department's
      // other operators only read it: it leaves their lists.
      const summary = summaryOf(frame.internal);
      if (!summary) break;
      summary.closed = true;
      if (!isParticipant(summary) && chats.has(frame.internal)) {
        chats.delete(frame.internal);
        unread.delete(frame.internal);
        if (current === frame.internal) current = null;
      }
      renderList();
      renderPanel();
      break;
    }
    case "internal.archived": {
      const summary = chats.get(frame.internal);
      if (summary) archived.set(frame.internal, summary);
      chats.delete(frame.internal);
      unread.delete(frame.internal);
      if (current === frame.internal) {
        current = null;
        desk.notice(gettext("Archived: it is under Archived in Internal Chat."), "internal-archived");
      }
      if (archiveView) desk.send({ type: "internal.list_archived" });
      renderList();
      renderPanel();
      keepFocus($("internal-archived")); // the control that pressed Archive is gone
      break;
    }
    case "internal.unarchived": {
      archived.delete(frame.internal.id);
      chats.set(frame.internal.id, frame.internal);
      if (archiveView) desk.send({ type: "internal.list_archived" });
      renderList();
      renderPanel();
      if (current === frame.internal.id) keepFocus(archiveButton); // Unarchive became Archive
      break;
    }
    case "internal.archived_list":
      archiveView = { chats: frame.chats, total: frame.total, shown: frame.shown };
      for (const summary of frame.chats) if (!chats.has(summary.id)) archived.set(summary.id, summary);
      renderPanel();
      break;
    case "internal.about": {
      if (frame.internal !== current) break;
      aboutList.replaceChildren(...frame.messages.map((m) => messageItem(m, { selfSender: "operator" })));
      aboutLog.hidden = false;
      aboutLog.setAttribute(
        "aria-label",
        format(gettext("Patron chat with %(name)s (read-only)"), { name: frame.chat.patron_name }),
      );
      break;
    }
    case "error":
      if (
        frame.code === "unavailable" &&
        resendLater(outbox, frame.client_id, (item) =>
          desk.send({ type: "internal.send", internal: item.internal, client_id: item.client_id, body: item.body }),
        )
      ) {
        break;
      }
      if (frame.client_id && outbox.has(frame.client_id)) {
        outbox.delete(frame.client_id);
        renderPanel();
      }
      break;
    default:
      break;
  }
});

// --- Controls -------------------------------------------------------------------------------

document.addEventListener("libdesk:internal-start", (event) => {
  const target = event.detail;
  // An open internal chat with the same colleague or department — and, when a patron
  // chat is open, about that chat — : go back to it. About another chat: a new one.
  const patron = desk.currentChat;
  for (const summary of chats.values()) {
    const same =
      (target.department && summary.to_department && summary.to_department.id === target.department) ||
      (target.operator && summary.to_operator && summary.to_operator.id === target.operator);
    const sameAbout =
      !patron || patron.status !== "active" || (summary.about && summary.about.id === patron.id);
    if (same && sameAbout && me() && summary.created_by.id === me().id && !summary.closed) {
      open(summary.id);
      input.focus();
      return;
    }
  }
  current = null;
  draft = target;
  renderList();
  renderPanel();
  input.focus();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  if (!body) return;
  input.value = "";
  const clientId = newClientId();
  if (draft) {
    const frame = { type: "internal.start", body, client_id: clientId };
    if (draft.department) frame.department = draft.department;
    if (draft.operator) frame.operator = draft.operator;
    if (!aboutBox.hidden && aboutCheck.checked && desk.currentChat) frame.about = desk.currentChat.id;
    openWhenReady = true;
    desk.send(frame);
    return;
  }
  if (!current) return;
  const pending = { internal: current, client_id: clientId, body };
  outbox.set(clientId, pending);
  renderPanel();
  desk.send({ type: "internal.send", internal: current, client_id: clientId, body });
  input.focus();
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

aboutButton.addEventListener("click", () => {
  if (current) desk.send({ type: "internal.about", internal: current });
});

closeButton.addEventListener("click", () => {
  if (current) desk.send({ type: "internal.close", internal: current });
});

archiveButton.addEventListener("click", () => {
  if (current) desk.send({ type: "internal.archive", internal: current });
});

unarchiveButton.addEventListener("click", () => {
  if (current) desk.send({ type: "internal.unarchive", internal: current });
});

function showArchive() {
  if ($("desk-notice").dataset.chat === "internal-archived") desk.notice("");
  current = null;
  draft = null;
  archiveView = archiveView || { chats: [], total: 0, shown: 0 };
  desk.send({ type: "internal.list_archived" });
  renderList();
  renderPanel();
  title.focus();
}

backButton.addEventListener("click", showArchive);
$("internal-archived").addEventListener("click", showArchive);

hideButton.addEventListener("click", () => {
  current = null;
  draft = null;
  archiveView = null;
  renderList();
  renderPanel();
});

// Transfers (issue 4): the Transfer control on my active chat (to an online colleague or
// department, with a note), the chats transferred to me under Patron Chats (Claim Chat or
// Decline), and the notices when a transfer is claimed, declined or expires.
import { format, gettext } from "../common/i18n.js";
import { el } from "../common/dom.js";
import { desk } from "./dashboard.js";

const $ = (id) => document.getElementById(id);
const offers = new Map(); // chat id -> transfer summary (open offers I can see)

function me() {
  return desk.operator;
}

function fromMe(offer) {
  return me() && offer.from_operator.id === me().id;
}

// --- "Transferred to you", under Patron Chats ------------------------------------------------

const heading = el("h4", { className: "list-title", id: "transfer-title" }, gettext("Transferred to you"));
const list = el("ul", { id: "transfer-list", className: "chat-list", "aria-labelledby": "transfer-title" });
$("waiting-empty").after(heading, list);

function renderList() {
  const incoming = [...offers.values()].filter((offer) => !fromMe(offer));
  heading.hidden = list.hidden = incoming.length === 0;
  list.replaceChildren(
    ...incoming.map((offer) => {
      const chat = offer.chat;
      const li = el("li", { className: "chat-item transferred" });
      li.dataset.chat = chat.id;
      const name = el("strong", { id: `t-${chat.id}` }, chat.patron_name);
      li.append(el("p", { className: "chat-item-title" }, name, el("span", { className: "chat-item-dept" }, ` · ${chat.department.name}`)));
      const note = offer.note ? `: ${offer.note}` : "";
      const from = format(gettext("Transferred from %(name)s"), { name: offer.from_operator.name });
      li.append(el("p", { className: "chat-item-transfer" }, `${from}${note}`));
      if (offer.to_department) {
        const to = format(gettext("To %(department)s"), { department: offer.to_department.name });
        li.append(el("p", { className: "chat-item-preview" }, to));
      }
      if (chat.preview) li.append(el("p", { className: "chat-item-preview" }, chat.preview));
      const claim = el("button", { type: "button", className: "button primary" }, gettext("Claim Chat"));
      claim.setAttribute("aria-describedby", name.id);
      claim.addEventListener("click", () => desk.claim(chat.id));
      const decline = el("button", { type: "button", className: "button" }, gettext("Decline"));
      decline.setAttribute("aria-describedby", name.id);
      decline.addEventListener("click", () => desk.send({ type: "chat.decline", chat: chat.id }));
      li.append(el("div", { className: "composer-actions" }, claim, decline));
      return li;
    }),
  );
  desk.setCount("transfers", incoming.length);
}

// --- The Transfer control on the open chat --------------------------------------------------

const transferButton = el("button", { type: "button", id: "transfer-chat", className: "button", hidden: true }, gettext("Transfer"));
$("conversation-actions").prepend(transferButton);
const pending = el("p", { id: "transfer-pending", className: "state", role: "status" });
$("conversation-state").after(pending);

const dialog = el("dialog", { id: "transfer-dialog", className: "dialog", "aria-labelledby": "transfer-dialog-title" });
const dialogForm = el("form", { method: "dialog" });
const targetSelect = el("select", { id: "transfer-target", required: true });
const noteInput = el("textarea", { id: "transfer-note", rows: 3, maxLength: 500 });
const dialogError = el("p", { className: "error", role: "alert" });
const submit = el("button", { type: "submit", className: "button primary" }, gettext("Transfer chat"));
const cancel = el("button", { type: "button", className: "button" }, gettext("Cancel"));
dialogForm.append(
  el("h2", { id: "transfer-dialog-title" }, gettext("Transfer chat")),
  el("p", {}, gettext("Only colleagues and departments that are online are listed.")),
  el("label", { for: "transfer-target" }, gettext("Transfer to")),
  targetSelect,
  el("label", { for: "transfer-note" }, gettext("Note for your colleague (optional)")),
  noteInput,
  dialogError,
  // Cancel first, the main button last: the same order in every dialog (Create Ticket).
  el("div", { className: "composer-actions" }, cancel, submit),
);
dialog.append(dialogForm);
document.body.append(dialog);

function renderControl() {
  const chat = desk.currentChat;
  const mine = chat && chat.status === "active" && chat.operator && me() && chat.operator.id === me().id;
  const offer = chat ? offers.get(chat.id) : null;
  transferButton.hidden = !mine || !!(offer && fromMe(offer));
  pending.textContent =
    offer && fromMe(offer) && mine
      ? format(gettext("Transfer to %(to)s offered; waiting for it to be claimed."), { to: offer.to_label })
      : "";
}

// Whom Transfer could offer the chat to: colleagues online, and their departments.
function someoneToTransferTo() {
  return desk.departments.some((department) =>
    (department.online_operators || []).some((person) => !me() || person.id !== me().id),
  );
}

function fillTargets() {
  const options = [];
  const departments = el("optgroup", { label: gettext("Departments") });
  const colleagues = el("optgroup", { label: gettext("Colleagues") });
  const seen = new Set();
  for (const department of desk.departments) {
    const others = (department.online_operators || []).filter((person) => !me() || person.id !== me().id);
    if (!others.length) continue;
    departments.append(el("option", { value: `department:${department.id}` }, department.name));
    for (const person of others) {
      if (seen.has(person.id)) continue;
      seen.add(person.id);
      colleagues.append(el("option", { value: `operator:${person.id}` }, person.name));
    }
  }
  if (departments.children.length) options.push(departments);
  if (colleagues.children.length) options.push(colleagues);
  targetSelect.replaceChildren(...options);
  return options.length > 0;
}

transferButton.addEventListener("click", () => {
  dialogError.textContent = "";
  noteInput.value = "";
  if (!fillTargets()) {
    const chatId = desk.currentChat && desk.currentChat.id;
    // Over when a colleague comes online, or when the operator turns to another chat.
    desk.notice(gettext("Nobody else is online to transfer to: create a ticket instead."), "", {
      until: () => someoneToTransferTo() || !desk.currentChat || desk.currentChat.id !== chatId,
      seconds: desk.NOTICE_SECONDS,
    });
    return;
  }
  dialog.showModal();
  targetSelect.focus();
});

cancel.addEventListener("click", () => dialog.close());

dialogForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const chat = desk.currentChat;
  const [kind, id] = (targetSelect.value || "").split(":");
  if (!chat || !id) {
    dialogError.textContent = gettext("Choose who to transfer the chat to.");
    return;
  }
  desk.send({ type: "chat.transfer", chat: chat.id, [kind]: Number(id), note: noteInput.value.trim() });
  dialog.close();
  transferButton.focus();
});

// --- Frames ---------------------------------------------------------------------------------

desk.onFrame((frame) => {
  switch (frame.type) {
    case "dashboard.state":
      offers.clear();
      for (const offer of frame.transfers || []) offers.set(offer.chat.id, offer);
      break;
    case "transfer.offered": {
      const offer = frame.transfer;
      offers.set(offer.chat.id, offer);
      if (fromMe(offer)) {
        desk.notice(format(gettext("Transfer to %(to)s offered; it returns to you if nobody claims it."), { to: offer.to_label }));
      } else {
        const note = offer.note ? `: ${offer.note}` : "";
        const text = format(gettext("%(name)s is transferring %(patron)s's chat to you"), {
          name: offer.from_operator.name,
          patron: offer.chat.patron_name,
        });
        desk.alert(`${text}${note}`);
      }
      break;
    }
    case "transfer.resolved": {
      const offer = frame.transfer;
      offers.delete(offer.chat.id);
      const by = frame.by ? frame.by.name : "";
      if (fromMe(offer)) {
        const names = { name: by, patron: offer.chat.patron_name };
        if (offer.status === "accepted") desk.notice(format(gettext("%(name)s claimed %(patron)s's chat."), names));
        else if (offer.status === "declined") {
          desk.alert(format(gettext("%(name)s declined the transfer: %(patron)s's chat stays with you."), names));
        } else desk.alert(format(gettext("Nobody claimed the transfer in time: %(patron)s's chat stays with you."), names));
      } else if (offer.status === "accepted" && me() && frame.by && frame.by.id !== me().id) {
        desk.notice(format(gettext("%(name)s claimed the chat transferred from %(from)s."), { name: by, from: offer.from_operator.name }));
      }
      break;
    }
    case "chat.ended":
    case "chat.closed":
      offers.delete(frame.chat);
      break;
    default:
      return;
  }
  // After the dashboard has handled the same frame (e.g. who I am, after dashboard.state).
  queueMicrotask(() => {
    renderList();
    renderControl();
  });
});

document.addEventListener("libdesk:conversation-rendered", renderControl);

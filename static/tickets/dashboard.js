// Tickets on the Chat Dashboard: "Create a ticket" for the open chat (choose a queue,
// optionally a person, notes → Create Ticket), and a link to the ticket desk with the
// number of open tickets assigned to me. Registered by tickets/apps.py.
import { format, formatNumber, gettext, ngettext } from "../common/i18n.js";
import { csrfToken } from "../common/http.js";
import { desk } from "../dashboard/dashboard.js";

const SUMMARY_URL = "/tickets/api/summary";
const CREATE_URL = "/tickets/api/from-chat";
const REFRESH_MS = 60_000;

let queues = [];

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key in node && key !== "for") node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// --- Stylesheet ---------------------------------------------------------------------------
document.head.append(el("link", { rel: "stylesheet", href: new URL("./tickets.css", import.meta.url).href }));

// --- The link to /tickets/ with my count --------------------------------------------------
const count = el("span", { className: "tickets-count", text: "" });
const link = el("a", { className: "tickets-link", href: "/tickets/" }, gettext("Tickets"), count);
const toolbar = document.querySelector(".dash-toolbar") || document.querySelector("main");
toolbar.append(link);

async function refresh() {
  try {
    const response = await fetch(SUMMARY_URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    queues = data.queues;
    link.href = data.assigned_open ? data.mine_url : data.url;
    const open = data.assigned_open;
    count.textContent = open
      ? " " + format(ngettext("(%(count)s open assigned to me)", "(%(count)s open assigned to me)", open), { count: formatNumber(open) })
      : "";
  } catch {
    // The dashboard keeps working without tickets; the next refresh tries again.
  }
}

// --- Create Ticket ------------------------------------------------------------------------
const queueSelect = el("select", { id: "ticket-queue", name: "department", required: true });
const personSelect = el("select", { id: "ticket-person", name: "assignee" });
const notes = el("textarea", { id: "ticket-notes", name: "notes", rows: 4 });
const error = el("p", { className: "error", role: "alert" });
const forChat = el("p", { className: "meta" });
const submit = el("button", { type: "submit", className: "button primary", text: gettext("Create Ticket") });
const cancel = el("button", { type: "button", className: "button", text: gettext("Cancel") });
const form = el(
  "form",
  { className: "create-ticket-form" },
  el("h2", { id: "create-ticket-title", text: gettext("Create a ticket") }),
  forChat,
  el("p", {}, el("label", { for: "ticket-queue", text: gettext("Queue") }), queueSelect),
  el("p", {}, el("label", { for: "ticket-person", text: gettext("Person (optional)") }), personSelect),
  el("p", {}, el("label", { for: "ticket-notes", text: gettext("Notes") }), notes),
  error,
  el("p", { className: "dialog-actions" }, cancel, submit),
);
const dialog = el("dialog", { className: "create-ticket-dialog" }, form);
dialog.setAttribute("aria-labelledby", "create-ticket-title");
document.body.append(dialog);

let dialogChat = null;

function fillPeople() {
  const queue = queues.find((q) => String(q.id) === queueSelect.value);
  personSelect.replaceChildren(el("option", { value: "", text: gettext("Anyone in the queue") }));
  for (const person of queue ? queue.operators : []) {
    personSelect.append(el("option", { value: String(person.id), text: person.name }));
  }
}

function fillQueues() {
  queueSelect.replaceChildren(el("option", { value: "", text: gettext("Choose a queue") }));
  for (const queue of queues) queueSelect.append(el("option", { value: String(queue.id), text: queue.name }));
  fillPeople();
}

queueSelect.addEventListener("change", fillPeople);

const opener = el("button", { type: "button", id: "create-ticket", className: "button", text: gettext("Create a ticket") });
opener.setAttribute("aria-haspopup", "dialog");
const actions = document.getElementById("conversation-actions");
if (actions) actions.prepend(opener);

opener.addEventListener("click", async () => {
  const chat = desk.currentChat;
  if (!chat) return;
  dialogChat = chat.id;
  if (!queues.length) await refresh();
  fillQueues();
  notes.value = "";
  error.textContent = "";
  forChat.textContent = format(gettext("For the chat with %(name)s. The transcript is attached."), {
    name: chat.patron_name,
  });
  dialog.showModal();
  queueSelect.focus();
});

cancel.addEventListener("click", () => dialog.close());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  if (!queueSelect.value) {
    error.textContent = gettext("Choose a queue.");
    queueSelect.focus();
    return;
  }
  submit.disabled = true;
  try {
    const response = await fetch(CREATE_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({
        chat: dialogChat,
        department: Number(queueSelect.value),
        assignee: personSelect.value ? Number(personSelect.value) : null,
        notes: notes.value,
      }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = data.message || gettext("The ticket could not be created.");
      return;
    }
    dialog.close();
    const created = format(gettext("Ticket %(ticket)s created for %(department)s."), {
      ticket: data.ticket,
      department: data.department,
    });
    const asking = data.email_requested ? gettext("The patron is asked for their email address.") : "";
    desk.notice(asking ? `${created} ${asking}` : created);
    opener.focus();
    refresh();
  } catch {
    error.textContent = gettext("The desk could not be reached. Please try again.");
  } finally {
    submit.disabled = false;
  }
});

refresh();
setInterval(refresh, REFRESH_MS);

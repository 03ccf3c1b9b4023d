// On the Chat Dashboard (issue 20): the patron's context in the chat header — the page
// they asked from (a plain link, http(s) only, no referrer) and their earlier chats and
// tickets one click away — and Block, with a reason. Registered by history's AppConfig;
// talks to the desk through the extension API (docs/protocol.md). Text via textContent.
import { format, gettext } from "../common/i18n.js";
import { desk } from "../dashboard/dashboard.js";
import { requestJSON } from "../common/http.js";

const CONTEXT_URL = "/history/api/chats/CHAT/context";

function el(tag, attributes = {}, text = "") {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text) element.textContent = text;
  return element;
}

const context = el("p", { id: "patron-context", class: "meta patron-context" });
document.getElementById("conversation-meta").after(context);

const blockButton = el("button", { type: "button", class: "button", "aria-haspopup": "dialog" }, gettext("Block"));
blockButton.hidden = true;
document.getElementById("conversation-actions").append(blockButton);

const dialog = el("dialog", { class: "dialog", "aria-labelledby": "block-dialog-title" });
const form = el("form", { method: "dialog" });
const reason = el("textarea", { id: "block-reason", rows: "3", maxlength: "500", "aria-required": "true" });
const error = el("p", { class: "error", role: "alert" });
const cancel = el("button", { type: "button", class: "button" }, gettext("Cancel"));
const submit = el("button", { type: "submit", class: "button danger" }, gettext("Block patron"));
// Cancel first, the main button last: the order of every dialog of the dashboard.
const actions = el("div", { class: "composer-actions" });
actions.append(cancel, submit);
form.append(
  el("h2", { id: "block-dialog-title" }, gettext("Block this patron")),
  el(
    "p",
    {},
    gettext(
      "New chats and offline questions from this patron's address will be refused for the period your admin set. They see a neutral message.",
    ),
  ),
  el("label", { for: "block-reason" }, gettext("Reason")),
  reason,
  error,
  actions,
);
dialog.append(form);
document.body.append(dialog);

let shownFor = null;
let urls = null;

async function showContext(chatId) {
  if (!chatId || chatId === shownFor) return;
  shownFor = chatId;
  context.replaceChildren();
  blockButton.hidden = true;
  const { ok, data } = await requestJSON(CONTEXT_URL.replace("CHAT", chatId));
  if (!ok || shownFor !== chatId) return;
  urls = data;
  const parts = [];
  if (data.page_url && /^https?:\/\//i.test(data.page_url)) {
    const link = el("a", { href: data.page_url, target: "_blank", rel: "noopener noreferrer" }, data.page_url);
    const [before, after] = gettext("Asked from %(page)s").split("%(page)s");
    parts.push([before, link, after].filter((part) => part !== ""));
  }
  const earlier = el("a", { href: data.url });
  earlier.textContent =
    data.earlier_chats || data.tickets
      ? format(gettext("Earlier chats (%(chats)s) and tickets (%(tickets)s)"), {
          chats: data.earlier_chats,
          tickets: data.tickets,
        })
      : gettext("No earlier chats or tickets");
  parts.push([earlier]);
  parts.push([el("a", { href: data.history_url }, gettext("Open in Chat History"))]);
  parts.forEach((nodes, index) => {
    if (index) context.append(" · ");
    context.append(...nodes);
  });
  blockButton.hidden = false;
}

document.addEventListener("libdesk:chat-opened", (event) => showContext(event.detail.chat));
document.addEventListener("libdesk:conversation-rendered", (event) => showContext(event.detail.chat));

blockButton.addEventListener("click", () => {
  error.textContent = "";
  reason.value = "";
  dialog.showModal();
  reason.focus();
});
cancel.addEventListener("click", () => dialog.close());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!reason.value.trim()) {
    error.textContent = gettext("Say why this patron is blocked.");
    return;
  }
  const chat = desk.currentChat;
  if (!chat || !urls) return;
  const { ok, data } = await requestJSON(urls.block_url, { method: "POST", json: { reason: reason.value } });
  if (!ok) {
    error.textContent = data.message || gettext("The block could not be saved.");
    return;
  }
  dialog.close();
  const until = new Date(data.blocked_until).toLocaleDateString();
  desk.notice(format(gettext("%(patron)s is blocked until %(until)s."), { patron: chat.patron_name, until }));
});

// Reference Analytics on the Chat Dashboard: after End Chat the entry form for that
// chat opens in #after-chat (server-rendered, autoescaped fragments; submitted with
// fetch), with Save and "Skip for now"; and the list "Ended chats without statistics"
// in #lists-extra. Nothing here builds HTML from patron or staff text.
import { format, gettext } from "../common/i18n.js";
import { request } from "../common/http.js";
import { desk } from "../dashboard/dashboard.js";

const BASE = "/analytics/";
const panel = document.getElementById("after-chat");
const listSlot = document.getElementById("lists-extra");
const skipped = new Set(); // chats whose form the operator skipped in this tab

const stylesheet = document.createElement("link");
stylesheet.rel = "stylesheet";
stylesheet.href = new URL("./analytics.css", import.meta.url).href;
document.head.append(stylesheet);

function fragment(html) {
  // DOMParser never runs scripts; the HTML is our own server's, autoescaped.
  return new DOMParser().parseFromString(html, "text/html").body.childNodes;
}

async function refreshPending() {
  if (!listSlot) return;
  try {
    const response = await request(`${BASE}pending/?fragment=1`);
    if (response.ok) listSlot.replaceChildren(...fragment(await response.text()));
  } catch {
    // The list is a convenience; the next chat event refreshes it.
  }
}

function clearPanel() {
  panel.replaceChildren();
  panel.hidden = true;
  delete panel.dataset.chat;
}

function showSkipped(chatId) {
  const note = document.createElement("p");
  note.setAttribute("role", "status");
  note.textContent = gettext("No statistics recorded for this chat.");
  const again = document.createElement("button");
  again.type = "button";
  again.className = "button";
  again.textContent = gettext("Record statistics");
  again.addEventListener("click", () => {
    skipped.delete(chatId);
    openForm(chatId, { focus: true });
  });
  panel.replaceChildren(note, again);
  panel.hidden = false;
}

let formRequest = 0; // only the latest openForm may fill the panel

async function openForm(chatId, { focus = false } = {}) {
  panel.dataset.chat = chatId;
  const attempt = ++formRequest;
  if (skipped.has(chatId)) {
    showSkipped(chatId);
    return;
  }
  const response = await request(`${BASE}chats/${chatId}/form`);
  const html = response.ok ? await response.text() : "";
  // While the form was on its way: another chat was opened, a later openForm started,
  // or the operator pressed "Skip for now" on an earlier copy of this form.
  if (attempt !== formRequest || panel.dataset.chat !== chatId || skipped.has(chatId)) return;
  if (!response.ok) {
    clearPanel();
    return;
  }
  panel.replaceChildren(...fragment(html));
  panel.hidden = false;
  if (focus) {
    const first = panel.querySelector("select, input:not([type=hidden]), textarea");
    if (first) first.focus();
  }
}

panel.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-analytics-form]");
  if (!form) return;
  event.preventDefault();
  const chatId = panel.dataset.chat;
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    const response = await request(form.action, { method: "POST", body: new FormData(form) });
    if (panel.dataset.chat !== chatId) return;
    panel.replaceChildren(...fragment(await response.text()));
    if (response.status === 201) {
      desk.notice(gettext("Statistics saved."));
      refreshPending();
      const close = document.getElementById("close-chat");
      if (close && !close.hidden) close.focus();
    } else {
      const invalid = panel.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }
  } catch {
    desk.notice(gettext("The statistics could not be saved. Check the connection and press Save again."));
    if (button) button.disabled = false;
  }
});

panel.addEventListener("click", (event) => {
  if (!event.target.closest("[data-analytics-skip]")) return;
  const chatId = panel.dataset.chat;
  skipped.add(chatId);
  showSkipped(chatId);
  refreshPending();
  desk.notice(gettext("No statistics recorded. The chat stays in “Ended chats without statistics”."));
});

document.addEventListener("libdesk:chat-ended", (event) => {
  const chatId = event.detail.chat;
  refreshPending();
  const current = desk.currentChat;
  if (current && current.id === chatId) openForm(chatId, { focus: event.detail.by === "operator" });
});

document.addEventListener("libdesk:chat-opened", (event) => {
  const chatId = event.detail.chat;
  const summary = desk.chat(chatId);
  if (summary && summary.status === "ended") openForm(chatId);
  else clearPanel();
});

desk.onFrame((frame) => {
  if (frame.type === "chat.closed") {
    if (panel.dataset.chat === frame.chat) clearPanel();
    refreshPending();
  } else if (frame.type === "chat.opened" && frame.chat.status === "ended" && desk.currentChat?.id === frame.chat.id && panel.dataset.chat !== frame.chat.id) {
    openForm(frame.chat.id);
  }
});

refreshPending();

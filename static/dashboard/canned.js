// Canned Messages, just below the chat box: a button (or Ctrl+/ or Alt+C) opens a
// list filtered as you type; typing a shortcut such as /welcome in the message box
// offers it too. Choosing one puts the text, filled for the open chat by the server,
// in the message box to edit or send. WAI-ARIA combobox + listbox, keyboard first.
// Every piece of canned text goes in with textContent or as the textarea's value.
import { format, gettext, ngettext } from "../common/i18n.js";
import { requestJSON } from "../common/http.js";
import { desk } from "./dashboard.js";

const config = document.querySelector("script[data-canned-url]")?.dataset || {};
const LIST_URL = config.cannedUrl || "/dashboard/canned/";
const MANAGE_URL = config.cannedManageUrl || "/dashboard/canned/manage/";
const $ = (id) => document.getElementById(id);
const messageBox = $("message-input");
const composer = $("composer");

let cache = { chat: null, items: [] };
let loading = null;
let popup = null; // the open list: {mode, root, listbox, search, items, active, returnTo}
let dismissedShortcut = null;

// --- Data -----------------------------------------------------------------------------------

async function load(chatId) {
  const url = `${LIST_URL}?chat=${encodeURIComponent(chatId)}`;
  const request = requestJSON(url).then(({ ok, data }) => {
    if (!ok) throw new Error(data.message || gettext("Could not load the canned messages."));
    if (desk.currentChat && desk.currentChat.id === chatId) cache = { chat: chatId, items: data.canned };
    return data.canned;
  });
  loading = request;
  try {
    return await request;
  } finally {
    if (loading === request) loading = null;
  }
}

function cachedFor(chatId) {
  return cache.chat === chatId ? cache.items : null;
}

function matches(item, query) {
  const haystack = `${item.title}\n${item.shortcut}\n${item.body}\n${item.text}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

function shortcutMatches(items, typed) {
  const prefix = typed.toLowerCase();
  return items.filter((item) => item.shortcut && item.shortcut.toLowerCase().startsWith(prefix));
}

// --- The controls ---------------------------------------------------------------------------

const button = document.createElement("button");
button.type = "button";
button.id = "canned-button";
button.className = "button";
button.textContent = gettext("Canned Messages");
button.setAttribute("aria-haspopup", "listbox");
button.setAttribute("aria-expanded", "false");
button.setAttribute("aria-keyshortcuts", "Control+/ Alt+C");
button.title = gettext("Canned Messages (Ctrl+/ or Alt+C)");
const hint = document.createElement("span");
hint.className = "canned-hint";
hint.textContent = "Ctrl+/";
hint.setAttribute("aria-hidden", "true");
const status = document.createElement("p");
status.id = "canned-status";
status.className = "visually-hidden";
status.setAttribute("role", "status");
status.setAttribute("aria-live", "polite");
// The hint sits inside the button (not squeezed between it and the next one); hidden
// from assistive technology, which has aria-keyshortcuts.
button.append(hint);
$("composer-extra").append(button, status);

// --- The list -------------------------------------------------------------------------------

function setActive(index) {
  if (!popup) return;
  const options = [...popup.listbox.querySelectorAll("[role=option]")];
  popup.active = options.length ? (index + options.length) % options.length : -1;
  options.forEach((option, i) => option.setAttribute("aria-selected", String(i === popup.active)));
  const owner = popup.mode === "search" ? popup.search : messageBox;
  const current = options[popup.active];
  if (current) {
    owner.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  } else {
    owner.removeAttribute("aria-activedescendant");
  }
}

function renderOptions(items, { activeFirst = false } = {}) {
  popup.items = items;
  const options = items.map((item, i) => {
    const li = document.createElement("li");
    // Stable per message: a re-render (the list arriving, a keystroke) keeps the id the
    // combobox's aria-activedescendant points at.
    li.id = `canned-option-${item.id}`;
    li.className = "canned-option";
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    const title = document.createElement("span");
    title.className = "canned-option-title";
    title.textContent = item.title;
    li.append(title);
    if (item.shortcut) {
      const shortcut = document.createElement("span");
      shortcut.className = "canned-option-shortcut";
      shortcut.textContent = ` ${item.shortcut}`;
      li.append(shortcut);
    }
    if (item.language) {
      // Its language (issue 19): the chat's own language's come first in the list.
      const language = document.createElement("span");
      language.className = "canned-option-language";
      language.textContent = ` (${item.language})`;
      li.append(language);
    }
    const text = document.createElement("span");
    text.className = "canned-option-text";
    text.textContent = item.text;
    li.append(text);
    li.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    li.addEventListener("click", () => choose(i));
    return li;
  });
  popup.listbox.replaceChildren(...options);
  popup.empty.hidden = items.length > 0;
  setActive(activeFirst && items.length ? 0 : -1);
}

function announce(text) {
  status.textContent = text;
}

function close({ restoreFocus = true } = {}) {
  if (!popup) return;
  const { root, returnTo } = popup;
  popup = null;
  root.remove();
  button.setAttribute("aria-expanded", "false");
  button.removeAttribute("aria-controls");
  messageBox.removeAttribute("aria-activedescendant");
  messageBox.removeAttribute("aria-controls");
  messageBox.removeAttribute("aria-autocomplete");
  if (restoreFocus && returnTo && document.contains(returnTo)) returnTo.focus();
}

function choose(index) {
  if (!popup) return;
  const item = popup.items[index];
  if (!item) return;
  close({ restoreFocus: false });
  desk.insertText(item.text);
  announce(format(gettext("%(title)s is in the message box. Edit it or press Enter to send."), { title: item.title }));
}

function buildPopup(mode) {
  const root = document.createElement("div");
  root.className = `canned-popup canned-${mode}`;
  root.id = "canned-popup";
  const listbox = document.createElement("ul");
  listbox.id = "canned-listbox";
  listbox.className = "canned-listbox";
  listbox.setAttribute("role", "listbox");
  listbox.setAttribute("aria-label", gettext("Canned Messages"));
  const empty = document.createElement("p");
  empty.className = "empty";
  empty.textContent = gettext("No canned message matches.");
  empty.hidden = true;
  return { root, listbox, empty };
}

async function openSearch() {
  const chat = desk.currentChat;
  if (!chat || composer.hidden) return;
  if (popup) close({ restoreFocus: false });
  const returnTo = document.activeElement && document.activeElement !== document.body ? document.activeElement : messageBox;
  const { root, listbox, empty } = buildPopup("search");
  const label = document.createElement("label");
  label.htmlFor = "canned-search";
  label.textContent = gettext("Search canned messages");
  const search = document.createElement("input");
  search.id = "canned-search";
  search.type = "text";
  search.autocomplete = "off";
  search.spellcheck = false;
  search.setAttribute("role", "combobox");
  search.setAttribute("aria-autocomplete", "list");
  search.setAttribute("aria-expanded", "true");
  search.setAttribute("aria-controls", listbox.id);
  const help = document.createElement("p");
  help.className = "canned-help";
  help.id = "canned-search-help";
  help.textContent = gettext("Type to filter; Up and Down arrows to choose; Enter to use it; Escape to close.");
  search.setAttribute("aria-describedby", help.id);
  const manage = document.createElement("a");
  manage.href = MANAGE_URL;
  manage.target = "_blank";
  manage.rel = "noopener";
  manage.textContent = gettext("My canned messages");
  manage.className = "canned-manage";
  root.append(label, search, help, listbox, empty, manage);
  composer.after(root);
  popup = { mode: "search", root, listbox, empty, search, items: [], active: -1, returnTo, all: [] };
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", root.id);
  search.focus();

  search.addEventListener("input", () => {
    if (!popup) return;
    renderOptions(popup.all.filter((item) => matches(item, search.value)));
    announce(countText(popup.items.length));
  });
  search.addEventListener("keydown", onListKey);
  root.addEventListener("focusout", (event) => {
    // Focus leaving the list closes it (the button's own click toggles it instead).
    const to = event.relatedTarget;
    if (popup && popup.root === root && !root.contains(to) && to !== button) close({ restoreFocus: false });
  });

  const shown = cachedFor(chat.id);
  const thisPopup = popup;
  if (shown) {
    popup.all = shown;
    renderOptions(shown.filter((item) => matches(item, search.value)));
  } else {
    announce(gettext("Loading canned messages…"));
  }
  try {
    const fresh = await load(chat.id);
    if (popup !== thisPopup) return;
    popup.all = fresh;
    const activeId = popup.items[popup.active]?.id;
    renderOptions(fresh.filter((item) => matches(item, search.value)));
    const again = popup.items.findIndex((item) => item.id === activeId);
    if (again >= 0) setActive(again);
    announce(countText(popup.items.length));
  } catch (error) {
    if (popup === thisPopup) announce(error.message);
    desk.notice(error.message);
  }
}

function countText(count) {
  if (!count) return gettext("No canned message matches.");
  return count === 1 ? gettext("1 canned message.") : format(gettext("%(count)s canned messages."), { count });
}

function onListKey(event) {
  if (!popup) return false;
  const count = popup.items.length;
  switch (event.key) {
    case "ArrowDown":
      setActive(popup.active < 0 ? 0 : popup.active + 1);
      break;
    case "ArrowUp":
      setActive(popup.active < 0 ? count - 1 : popup.active - 1);
      break;
    case "Enter":
      if (event.shiftKey || event.isComposing) return false;
      if (popup.active >= 0) choose(popup.active);
      else if (popup.mode === "search" && count) choose(0);
      else return false;
      break;
    case "Escape":
      if (popup.mode === "shortcut") dismissedShortcut = messageBox.value;
      close();
      announce(gettext("Canned Messages closed."));
      break;
    case "Tab":
      if (popup.mode === "shortcut") close({ restoreFocus: false });
      return false;
    default:
      return false;
  }
  event.preventDefault();
  event.stopPropagation();
  return true;
}

// --- Shortcuts typed in the message box -------------------------------------------------------

async function offerShortcut() {
  const chat = desk.currentChat;
  const typed = messageBox.value;
  if (!chat || !/^\/\S*$/.test(typed) || typed === dismissedShortcut) {
    if (popup && popup.mode === "shortcut") close({ restoreFocus: false });
    return;
  }
  let items = cachedFor(chat.id);
  if (!items) {
    try {
      items = await load(chat.id);
    } catch {
      return;
    }
    if (messageBox.value !== typed) return;
  }
  const found = shortcutMatches(items, typed);
  if (!found.length) {
    if (popup && popup.mode === "shortcut") close({ restoreFocus: false });
    return;
  }
  if (!popup || popup.mode !== "shortcut") {
    if (popup) close({ restoreFocus: false });
    const { root, listbox, empty } = buildPopup("shortcut");
    const help = document.createElement("p");
    help.className = "canned-help";
    help.textContent = gettext(
      "Canned Messages for this shortcut: Enter uses the highlighted one; Escape keeps what you typed.",
    );
    root.append(help, listbox, empty);
    composer.after(root);
    popup = { mode: "shortcut", root, listbox, empty, search: null, items: [], active: -1, returnTo: messageBox };
    messageBox.setAttribute("aria-autocomplete", "list");
    messageBox.setAttribute("aria-controls", listbox.id);
  }
  renderOptions(found, { activeFirst: true });
  const matches = ngettext(
    "%(count)s canned message for %(typed)s: %(title)s. Enter to use it.",
    "%(count)s canned messages for %(typed)s: %(title)s. Enter to use it.",
    found.length,
  );
  announce(format(matches, { count: found.length, typed, title: found[0].title }));
}

messageBox.addEventListener("input", () => {
  if (dismissedShortcut !== null && messageBox.value !== dismissedShortcut) dismissedShortcut = null;
  offerShortcut();
});
messageBox.addEventListener("blur", () => {
  if (popup && popup.mode === "shortcut") close({ restoreFocus: false });
});

// Capture phase on the form: runs before the message box's own Enter-to-send handler.
composer.addEventListener(
  "keydown",
  (event) => {
    if (event.target === messageBox && popup && popup.mode === "shortcut") onListKey(event);
  },
  true,
);

// --- Opening ------------------------------------------------------------------------------------

button.addEventListener("click", () => {
  if (popup && popup.mode === "search") close();
  else openSearch();
});

document.addEventListener("keydown", (event) => {
  const ctrlSlash = (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "/" || event.code === "Slash");
  const altC = event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyC";
  if (!ctrlSlash && !altC) return;
  if (!desk.currentChat || composer.hidden) return;
  event.preventDefault();
  if (popup && popup.mode === "search") close();
  else openSearch();
});

document.addEventListener("libdesk:chat-ended", (event) => {
  if (desk.currentChat && desk.currentChat.id === event.detail.chat) close({ restoreFocus: false });
});

document.addEventListener("libdesk:chat-opened", (event) => {
  close({ restoreFocus: false });
  dismissedShortcut = null;
  const chatId = event.detail.chat;
  if (cache.chat !== chatId) {
    cache = { chat: null, items: [] };
    // Prime the list so that a typed shortcut is offered at once; errors show on open.
    setTimeout(() => {
      if (desk.currentChat && desk.currentChat.id === chatId && !loading) load(chatId).catch(() => {});
    }, 0);
  }
});

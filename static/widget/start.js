// Before a chat: the widget watches its department's presence live (issue 4) on the
// patron socket (no token) and shows the start form when someone answers — the
// department or its fallback — else the offline state; the start form begins a chat.
import { LiveSocket, newClientId } from "../common/live.js";
import { connect } from "./conversation.js";
import { reportChat } from "./host.js";
import { $, hasChat, language, root, saveSession, slug } from "./session.js";
import { store } from "./storage.js";
import { setChatStatus, show } from "./view.js";
import { format, gettext } from "../common/i18n.js";

// The start being sent, kept until the desk has answered it: a retry (a second click, a
// resubmit after the network failed) sends the same client_id, and the desk answers it
// with the chat the first attempt may have started instead of making a second one.
const pendingStartKey = `libdesk:start:${slug}`;

function startRequest(fields) {
  const pending = store.get(pendingStartKey);
  const same =
    pending && ["name", "email", "question", "page_url"].every((key) => pending[key] === fields[key]);
  // Something else asked: a new start (the desk would refuse another question under
  // the old id, and the patron means this one).
  const request = same ? pending : { ...fields, client_id: newClientId() };
  store.set(pendingStartKey, request);
  return request;
}

let watcher = null;
let offlineMessage = "";
let formShown = false;

function applyPresence(status) {
  if (hasChat()) return; // a chat has started: presence no longer matters
  const answering = status.answering || (status.online ? { slug, name: "" } : null);
  if (answering) {
    $("answering").textContent =
      answering.slug !== slug && answering.name
        ? format(gettext("%(department)s will answer your question."), { department: answering.name })
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

// The widget's first step, and again after a conversation is forgotten: resume the
// patron's chat, or ask the desk whether anyone answers here.
export async function start() {
  if (hasChat()) {
    stopWatching();
    show("state-chat");
    setChatStatus(gettext("Loading your conversation…"));
    connect();
    return;
  }
  // No conversation here (or this browser keeps none for a cross-site frame): the
  // launcher must not say one is in progress.
  reportChat(false);
  show("state-loading");
  try {
    const response = await fetch(root.dataset.statusUrl, {
      credentials: "omit",
      headers: { "Accept-Language": language },
    });
    const status = await response.json();
    offlineMessage = status.offline_message;
    applyPresence(status);
  } catch {
    $("offline-message").textContent = gettext("The chat could not be reached. Please try again later.");
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
    error.textContent = gettext("Please type your question.");
    $("question").setAttribute("aria-invalid", "true");
    $("question").focus();
    return;
  }
  $("question").removeAttribute("aria-invalid");
  const page = new URLSearchParams(location.hash.slice(1)).get("page") || "";
  const button = event.submitter || event.target.querySelector("button[type=submit]");
  button.disabled = true;
  const request = startRequest({
    name: $("patron-name").value,
    email: $("patron-email").value,
    question,
    page_url: page,
  });
  try {
    const response = await fetch(root.dataset.startUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept-Language": language },
      body: JSON.stringify(request),
    });
    // Answered (started, or refused: nothing was made): the next start is a new one.
    // A server error may have started it, so its id is kept for the retry.
    if (response.status < 500) store.remove(pendingStartKey);
    const data = await response.json();
    if (!response.ok) {
      error.textContent = data.message || gettext("The chat could not be started.");
      if (data.code === "offline") {
        $("offline-message").textContent = data.message;
        show("state-offline");
      }
      return;
    }
    stopWatching();
    saveSession({ token: data.token, chat: data.chat });
    reportChat(true);
    show("state-chat");
    setChatStatus(gettext("Waiting for a librarian."));
    connect();
    $("message-input").focus();
  } catch {
    error.textContent = gettext("The chat could not be reached. Please try again.");
  } finally {
    button.disabled = false;
  }
});

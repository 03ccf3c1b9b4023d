// Email transcript (desk procedure step 7, the e-mail icon): a button in
// #conversation-actions sends the open chat's transcript to the patron's address, and
// asks for an address when the patron gave none. Text goes in with textContent only.
import { format, gettext } from "../common/i18n.js";
import { requestJSON } from "../common/http.js";
import { desk } from "./dashboard.js";

const stylesheet = document.createElement("link");
stylesheet.rel = "stylesheet";
stylesheet.href = new URL("./transcript.css", import.meta.url).href;
document.head.append(stylesheet);

const actions = document.getElementById("conversation-actions");
const head = actions.closest("header") || actions.parentElement;

const button = document.createElement("button");
button.type = "button";
button.id = "email-transcript";
button.className = "button";
button.textContent = gettext("Email transcript");
button.hidden = true;
actions.prepend(button);

const form = document.createElement("form");
form.className = "transcript-form";
form.hidden = true;
form.noValidate = true;
const hint = document.createElement("p");
hint.id = "transcript-hint";
hint.className = "meta";
hint.textContent = gettext("The patron gave no email address. Where should the transcript go?");
const label = document.createElement("label");
label.htmlFor = "transcript-email";
label.textContent = gettext("Patron's email address");
const input = document.createElement("input");
input.type = "email";
input.id = "transcript-email";
input.autocomplete = "off";
input.setAttribute("aria-describedby", "transcript-hint transcript-error");
const error = document.createElement("p");
error.id = "transcript-error";
error.className = "error";
error.setAttribute("role", "alert");
const send = document.createElement("button");
send.type = "submit";
send.className = "button primary";
send.textContent = gettext("Send transcript");
const cancel = document.createElement("button");
cancel.type = "button";
cancel.className = "button";
cancel.textContent = gettext("Cancel");
const field = document.createElement("div");
field.append(label, input);
form.append(hint, field, send, cancel, error);
head.after(form);

function resetForm() {
  form.hidden = true;
  input.value = "";
  error.textContent = "";
  input.removeAttribute("aria-invalid");
}

function refresh() {
  const chat = desk.currentChat;
  button.hidden = !chat || !["active", "ended"].includes(chat.status);
  if (button.hidden) resetForm();
}

async function request(email) {
  const chat = desk.currentChat;
  if (!chat) return;
  button.disabled = true;
  send.disabled = true;
  try {
    const { ok, data } = await requestJSON(`/dashboard/chats/${chat.id}/transcript`, {
      method: "POST",
      json: { email },
    });
    if (ok) {
      resetForm();
      desk.notice(format(gettext("The transcript is on its way to %(email)s."), { email: data.email }));
      button.focus();
    } else if (data.code === "no_email" || data.code === "bad_email") {
      form.hidden = false;
      error.textContent = email ? data.message : "";
      if (email) input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      desk.notice(data.message || gettext("The transcript could not be sent."));
    }
  } catch {
    desk.notice(gettext("The transcript could not be sent. Check the connection and try again."));
  } finally {
    button.disabled = false;
    send.disabled = false;
  }
}

button.addEventListener("click", () => request(""));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const email = input.value.trim();
  if (!email) {
    error.textContent = gettext("Enter the patron's email address.");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  request(email);
});
cancel.addEventListener("click", () => {
  resetForm();
  button.focus();
});

document.addEventListener("libdesk:chat-opened", () => {
  resetForm();
  refresh();
});
document.addEventListener("libdesk:chat-ended", refresh);
desk.onFrame((frame) => {
  if (["chat.opened", "chat.claimed", "chat.closed", "chat.ended", "dashboard.state"].includes(frame.type)) {
    // The dashboard updates its state right after its listeners run.
    setTimeout(refresh, 0);
  }
});

// Tickets in the widget: the offline question form (nobody online to chat) and the
// request for an email address (a ticket was made from this chat and the patron gave
// none). Both are cloned from <template>s only when needed (docs/protocol.md, "Tickets").
import { format, gettext } from "../common/i18n.js";
import { $, postJSON, widget } from "./session.js";

function invalid(error, field, message) {
  error.textContent = message;
  field.setAttribute("aria-invalid", "true");
  field.focus();
}

export function mountOfflineForm() {
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
      invalid(error, email, gettext("Please give an email address we can answer to."));
      return;
    }
    if (!question.value.trim()) {
      invalid(error, question, gettext("Please type your question."));
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
        error.textContent = data.message || gettext("Your question could not be sent. Please try again.");
        return;
      }
      form.hidden = true;
      const sent = $("offline-sent");
      sent.textContent = data.ticket
        ? format(gettext("Thank you! Your question was sent (reference %(reference)s). We will answer by email."), {
            reference: data.ticket,
          })
        : gettext("Thank you! Your question was sent. We will answer by email.");
      sent.hidden = false;
      sent.focus();
    } catch {
      error.textContent = gettext("Your question could not be sent. Please try again.");
    } finally {
      button.disabled = false;
    }
  });
}

function mountEmailRequest(holder) {
  holder.append($("email-request-template").content.cloneNode(true));
  const form = $("email-request-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("email-request-input");
    const error = $("email-request-error");
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!input.value.trim() || !input.checkValidity()) {
      invalid(error, input, gettext("Please give an email address we can answer to."));
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { ok, data } = await postJSON(form.dataset.url, {
        token: widget.session.token,
        email: input.value.trim(),
      });
      if (!ok) {
        error.textContent = data.message || gettext("Your email address could not be saved.");
        return;
      }
      holder.replaceChildren();
      ($("composer").hidden ? $("new-chat") : $("message-input")).focus();
    } catch {
      error.textContent = gettext("Your email address could not be saved. Please try again.");
    } finally {
      button.disabled = false;
    }
  });
}

export function askForEmail({ ticket, department }) {
  const holder = $("email-request");
  if (!holder.firstElementChild) mountEmailRequest(holder);
  $("email-request-text").textContent = format(
    gettext(
      "%(department)s will follow up on your question (ticket %(ticket)s) by email. Where should they write to you?",
    ),
    { department, ticket },
  );
  $("email-request-input").focus();
}

export async function checkEmailNeeded() {
  if (!widget.session || !widget.session.token) return;
  try {
    const url = $("email-request-template").content.querySelector("form").dataset.neededUrl;
    const { ok, data } = await postJSON(url, { token: widget.session.token });
    if (ok && data.needed) askForEmail(data);
  } catch {
    // Nothing to ask, or the desk is unreachable: the socket's own retry will bring us back.
  }
}

// The ended state's "Email me this transcript": the patron's token goes in an
// Authorization header, never a cookie.
import { format, gettext } from "../common/i18n.js";
import { $, postJSON, root, widget } from "./session.js";

const result = $("transcript-result");
const field = $("transcript-email");

$("transcript-request").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!widget.session || !widget.session.token) return;
  const button = event.submitter || event.target.querySelector("button[type=submit]");
  button.disabled = true;
  result.textContent = gettext("Sending…");
  try {
    const { ok, data } = await postJSON(
      root.dataset.transcriptUrl,
      { email: field.value.trim() },
      { Authorization: `Bearer ${widget.session.token}` },
    );
    if (ok) {
      field.removeAttribute("aria-invalid");
      result.textContent = format(gettext("A copy of this chat is on its way to %(email)s."), { email: data.email });
    } else {
      if (data.code === "no_email" || data.code === "bad_email") {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
      result.textContent =
        data.code === "no_email"
          ? gettext("Please type your email address.")
          : data.message || gettext("The copy could not be sent.");
    }
  } catch {
    result.textContent = gettext("The copy could not be sent. Please try again.");
  } finally {
    button.disabled = false;
  }
});

// A new chat starts with an empty request form.
export function resetTranscriptRequest() {
  result.textContent = "";
  field.value = "";
}

// Which state the widget shows (loading, offline, the start form, the chat) and the
// chat's status line.
import { $ } from "./session.js";
import { mountOfflineForm } from "./tickets.js";
import { format, formatNumber, gettext, ngettext } from "../common/i18n.js";

const states = ["state-loading", "state-offline", "state-form", "state-chat"];

export function show(stateId) {
  for (const id of states) $(id).hidden = id !== stateId;
  if (stateId === "state-offline") mountOfflineForm(); // tickets: leave a question
}

export function setChatStatus(text) {
  $("chat-status").textContent = text;
}

export function describeState(chat) {
  if (chat.status === "waiting") {
    const parts = [gettext("Waiting for a librarian.")];
    if (chat.position) {
      parts.push(format(gettext("You are number %(position)s in line."), { position: formatNumber(chat.position) }));
    }
    const minutes = chat.estimated_wait ? Math.max(1, Math.round(chat.estimated_wait / 60)) : 0;
    if (minutes) {
      const wait = ngettext(
        "Estimated wait: about %(minutes)s minute.",
        "Estimated wait: about %(minutes)s minutes.",
        minutes,
      );
      parts.push(format(wait, { minutes: formatNumber(minutes) }));
    }
    return parts.join(" ");
  }
  if (chat.status === "active") {
    return chat.operator ? format(gettext("You are chatting with %(name)s."), { name: chat.operator }) : "";
  }
  return gettext("This chat has ended.");
}

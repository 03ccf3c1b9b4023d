// Which state the widget shows (loading, offline, the start form, the chat) and the
// chat's status line.
import { $ } from "./session.js";
import { mountOfflineForm } from "./tickets.js";

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
    const place = chat.position ? ` You are number ${chat.position} in line.` : "";
    const minutes = chat.estimated_wait ? Math.max(1, Math.round(chat.estimated_wait / 60)) : 0;
    const wait = minutes ? ` Estimated wait: about ${minutes} minute${minutes === 1 ? "" : "s"}.` : "";
    return `Waiting for a librarian.${place}${wait}`;
  }
  if (chat.status === "active") return chat.operator ? `You are chatting with ${chat.operator}.` : "";
  return "This chat has ended.";
}

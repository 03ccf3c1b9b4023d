// The message box and its outbox: what the patron sends goes into the outbox (kept in
// storage) before the socket, is shown as pending, and leaves the outbox when the
// server acknowledges it or echoes it — so nothing typed while offline is lost, and
// nothing is sent twice (the server ignores a client id it already has).
import { messageItem, newClientId, resendLater, RETRY_NOTICE } from "../common/live.js";
import { store } from "./storage.js";
import { $, maxLength, outboxKey, widget } from "./session.js";
import { format, formatNumber, gettext } from "../common/i18n.js";

const transcript = $("transcript");
const input = $("message-input");

export const outbox = new Map((store.get(outboxKey) || []).map((item) => [item.client_id, item]));

export function saveOutbox() {
  store.set(outboxKey, [...outbox.values()]);
}

export function clearOutbox() {
  store.remove(outboxKey);
  outbox.clear();
}

// A message the server has (echoed or acknowledged): no longer pending.
export function delivered(clientId) {
  if (outbox.delete(clientId)) saveOutbox();
  const retrying = [...outbox.values()].some((item) => item.retryDelay);
  if (!retrying && $("send-error").textContent === RETRY_NOTICE) $("send-error").textContent = "";
}

// "unavailable": the message stays in the outbox, shown as pending, and goes again with
// the same client id (common/live.js resendLater). False when it was not one of ours.
export function retryLater(clientId) {
  return resendLater(outbox, clientId, (item) => {
    if (widget.socket) widget.socket.send({ type: "message.send", client_id: item.client_id, body: item.body });
  });
}

export function pendingItem(clientId) {
  return transcript.querySelector(`li[data-client-id="${CSS.escape(clientId)}"]`);
}

export function renderPending(item) {
  const li = messageItem(
    { sender: "patron", author: gettext("You"), body: item.body, client_id: item.client_id },
    { selfSender: "patron" },
  );
  li.classList.add("msg-pending");
  transcript.append(li);
  transcript.scrollTop = transcript.scrollHeight;
}

// After the history: what is still unsent shows as pending again.
export function renderUnsent() {
  for (const item of outbox.values()) {
    if (!pendingItem(item.client_id)) renderPending(item);
  }
}

export function flushOutbox() {
  for (const item of outbox.values()) {
    widget.socket.send({ type: "message.send", client_id: item.client_id, body: item.body });
  }
}

// The server refused a message (too long, too fast…): give the text back so nothing
// typed is lost. False when it was not one of ours.
export function refused(clientId) {
  if (!clientId || !outbox.has(clientId)) return false;
  if (!input.value) input.value = outbox.get(clientId).body;
  outbox.delete(clientId);
  saveOutbox();
  const pending = pendingItem(clientId);
  if (pending) pending.remove();
  return true;
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  $("send-error").textContent = "";
  if (!body) return;
  if (body.length > maxLength) {
    $("send-error").textContent = format(gettext("That message is too long (limit %(limit)s characters)."), {
      limit: formatNumber(maxLength),
    });
    return;
  }
  // Into the outbox first: it is sent now if connected, else when the socket returns.
  const item = { client_id: newClientId(), body };
  outbox.set(item.client_id, item);
  saveOutbox();
  renderPending(item);
  input.value = "";
  widget.socket.send({ type: "message.send", client_id: item.client_id, body });
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

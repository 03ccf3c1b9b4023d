// The patron's live conversation: the socket (hello with the token, resume after the
// last sequence number seen), the transcript, the chat's status, and the ended state.
import { LiveSocket, messageItem, placeMessage, RETRY_NOTICE } from "../common/live.js";
import {
  clearOutbox,
  delivered,
  flushOutbox,
  pendingItem,
  refused,
  renderUnsent,
  retryLater,
} from "./composer.js";
import { $, clearSession, language, widget } from "./session.js";
import { reportChat } from "./host.js";
import { askForEmail, checkEmailNeeded } from "./tickets.js";
import { describeState, setChatStatus, show } from "./view.js";
import { gettext } from "../common/i18n.js";

const transcript = $("transcript");
const connection = $("connection");

// Set by app.js: the patron's side (issue 7) sees every frame; ``restart`` shows the
// start form again once a conversation is forgotten.
const hooks = { patronSide: null, restart: () => {} };

export function setHooks({ patronSide, restart }) {
  hooks.patronSide = patronSide;
  hooks.restart = restart;
}

export function showEnded() {
  $("composer").hidden = true;
  $("ended").hidden = false;
  setChatStatus(gettext("This chat has ended."));
}

function renderMessage(message) {
  if (message.seq && transcript.querySelector(`li[data-seq="${message.seq}"]`)) return;
  if (message.client_id) {
    const pending = pendingItem(message.client_id);
    if (pending) pending.remove();
    delivered(message.client_id);
  }
  placeMessage(transcript, messageItem(message, { selfSender: "patron" }));
  // lastSeq is the number up to which everything is shown: a message that arrives ahead
  // of a missing one (two senders' messages may cross) does not move it, so a resume or
  // a resync asks for the gap again.
  while (transcript.querySelector(`li[data-seq="${widget.lastSeq + 1}"]`)) widget.lastSeq += 1;
  transcript.scrollTop = transcript.scrollHeight;
}

function onFrame(frame) {
  hooks.patronSide.onFrame(frame); // issue 7: typing, files, screenshare, rating, deletion
  switch (frame.type) {
    case "welcome":
      widget.chatState = frame.chat;
      show("state-chat");
      for (const message of frame.messages) renderMessage(message);
      renderUnsent();
      setChatStatus(describeState(widget.chatState));
      if (widget.chatState.status === "ended" || widget.chatState.status === "closed") showEnded();
      else flushOutbox();
      reportChat(["waiting", "active"].includes(widget.chatState.status));
      checkEmailNeeded();
      break;
    case "message.new":
      // A gap (a message that never arrived live): ask for everything after lastSeq.
      if (widget.lastSeq && frame.message.seq > widget.lastSeq + 1) resync();
      renderMessage(frame.message);
      break;
    case "pong":
      if (frame.last_seq && frame.last_seq > widget.lastSeq) resync();
      break;
    case "message.ack":
      delivered(frame.client_id);
      break;
    case "queue.position":
      if (widget.chatState && widget.chatState.status === "waiting") {
        widget.chatState.position = frame.position;
        widget.chatState.estimated_wait = frame.estimated_wait;
        setChatStatus(describeState(widget.chatState));
      }
      break;
    case "chat.claimed":
      widget.chatState = { ...widget.chatState, status: "active", operator: frame.operator, position: null };
      setChatStatus(describeState(widget.chatState));
      break;
    case "chat.ended":
      if (widget.chatState) widget.chatState.status = "ended";
      showEnded();
      reportChat(false);
      break;
    case "ticket.email_requested":
      askForEmail(frame);
      break;
    case "error":
      if (frame.code === "bad_token") {
        forget();
        return;
      }
      if (frame.code === "unavailable" && retryLater(frame.client_id)) {
        $("send-error").textContent = RETRY_NOTICE;
        break;
      }
      refused(frame.client_id);
      $("send-error").textContent = frame.message;
      break;
    default:
      break;
  }
}

function hello() {
  widget.socket.send({ type: "hello", token: widget.session.token, last_seq: widget.lastSeq });
}

function resync() {
  hello();
}

// A ping now and then also catches a lost last message (the pong says the chat's last seq).
setInterval(() => {
  if (widget.socket && widget.session) widget.socket.send({ type: "ping" });
}, 25000);

export function connect() {
  widget.socket = new LiveSocket(`/ws/patron/?lang=${encodeURIComponent(language)}`, {
    onOpen: hello,
    onFrame,
    onStatus: (status) => {
      connection.textContent =
        status === "reconnecting" ? gettext("Reconnecting…") : status === "back" ? gettext("Back online.") : "";
    },
    onRefused: () => forget(),
  });
  widget.socket.connect();
}

// Forget this conversation on this device (a new chat, a deleted one, a token the
// server no longer knows) and start again.
export function forget() {
  if (widget.socket) widget.socket.stop();
  clearSession();
  clearOutbox();
  reportChat(false);
  transcript.replaceChildren();
  $("email-request").replaceChildren();
  $("composer").hidden = false;
  $("ended").hidden = true;
  hooks.patronSide.reset();
  hooks.restart();
}

$("end-chat").addEventListener("click", () => {
  widget.socket.send({ type: "chat.end" });
});

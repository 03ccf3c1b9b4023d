// The patron's side, on the Chat Dashboard (issue 7): attachments shown unopened and
// opened only on an explicit click, Send a file, "<patron> is typing…", and Request
// Screenshare just below the chat box (built-in WebRTC viewer or a meeting link).
// Everything goes through the desk API; text goes in with textContent only.
import { format, gettext } from "../common/i18n.js";
import { desk } from "./dashboard.js";
import { csrfToken } from "../common/http.js";
import { decorateMessages } from "../common/live.js";

const $ = (id) => document.getElementById(id);
const TYPING_EVERY_MS = 2000;
const TYPING_SHOWN_MS = 6000;
const REMINDER = gettext("Make sure the patron is really asking a question before opening attachments.");

const stylesheet = document.createElement("link");
stylesheet.rel = "stylesheet";
stylesheet.href = new URL("./patron_side.css", import.meta.url).href;
document.head.append(stylesheet);

function button(text, className = "button") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = text;
  return element;
}

// --- Attachments: unopened until a click ------------------------------------------------

const opened = new Map(); // attachment id -> {url (blob), previewable}

function renderOpened(card, attachment) {
  const state = opened.get(attachment.id);
  card.querySelector(".file-open")?.remove();
  const holder = document.createElement("div");
  holder.className = "file-open";
  if (state.previewable) {
    const image = document.createElement("img");
    image.src = state.url;
    image.alt = format(gettext("Preview of %(name)s"), { name: attachment.name });
    image.className = "file-preview";
    holder.append(image);
  }
  const link = document.createElement("a");
  link.href = state.url;
  link.download = attachment.name;
  link.textContent = format(gettext("Save %(name)s"), { name: attachment.name });
  holder.append(link);
  card.append(holder);
}

async function openAttachment(card, attachment, trigger) {
  trigger.disabled = true;
  try {
    const response = await fetch(attachment.url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    opened.set(attachment.id, { url, previewable: attachment.previewable });
    renderOpened(card, attachment);
    trigger.textContent = gettext("Opened");
    if (!attachment.previewable) card.querySelector(".file-open a").click(); // a download
  } catch {
    trigger.disabled = false;
    desk.notice(format(gettext("%(name)s could not be opened. Try again."), { name: attachment.name }));
  }
}

decorateMessages((li, message) => {
  const attachment = message.attachment;
  if (!attachment || !document.body.classList.contains("dashboard")) return;
  li.classList.add("msg-file");
  const card = document.createElement("div");
  card.className = "file-card";
  const meta = document.createElement("p");
  meta.className = "file-meta";
  meta.textContent = `${attachment.type} · ${attachment.size_label} · ${gettext("unopened")}`;
  card.append(meta);
  if (message.sender === "patron") {
    const reminder = document.createElement("p");
    reminder.className = "file-reminder";
    reminder.textContent = REMINDER;
    card.append(reminder);
  }
  const open = button(opened.has(attachment.id) ? gettext("Opened") : gettext("Open attachment"), "button small");
  const nameId = `file-${attachment.id}`;
  li.querySelector(".msg-body").id = nameId;
  open.setAttribute("aria-describedby", nameId);
  card.append(open);
  if (opened.has(attachment.id)) {
    meta.textContent = `${attachment.type} · ${attachment.size_label}`;
    renderOpened(card, attachment);
  }
  open.addEventListener("click", () => {
    meta.textContent = `${attachment.type} · ${attachment.size_label}`;
    if (opened.has(attachment.id)) renderOpened(card, attachment);
    else openAttachment(card, attachment, open);
  });
  li.querySelector(".msg-body").after(card);
});

// --- Controls below the chat box --------------------------------------------------------

const extra = $("composer-extra");
const sendFile = button(gettext("Attach a file"));
const fileInput = document.createElement("input");
fileInput.type = "file";
fileInput.hidden = true;
const shareButton = button(gettext("Request Screenshare"));
extra.append(sendFile, fileInput, shareButton);

const typingLine = document.createElement("p");
typingLine.className = "typing";
document.querySelector("#conversation .transcript-log").after(typingLine);

const panel = document.createElement("section");
panel.className = "screenshare-panel";
panel.setAttribute("aria-label", gettext("Screenshare"));
panel.hidden = true;
const panelText = document.createElement("p");
panelText.setAttribute("role", "status");
const video = document.createElement("video");
video.autoplay = true;
video.muted = true;
video.playsInline = true;
video.hidden = true;
video.setAttribute("aria-label", gettext("The patron's screen"));
video.className = "screenshare-video";
const stopButton = button(gettext("Stop screenshare"), "button danger");
panel.append(panelText, video, stopButton);
$("composer").after(panel);

let share = null; // {chat, pc, pendingIce: [], remoteSet}
let lastTypingSent = 0;
let typingTimer = null;

function ownsCurrent() {
  const chat = desk.currentChat;
  return chat && chat.status === "active" && chat.operator && desk.operator && chat.operator.id === desk.operator.id;
}

function refresh() {
  const mine = ownsCurrent();
  sendFile.hidden = !mine;
  shareButton.hidden = !mine;
  shareButton.disabled = !!(share && desk.currentChat && share.chat === desk.currentChat.id);
  const chat = desk.currentChat;
  panel.hidden = !(share && chat && share.chat === chat.id);
  if (!chat || !typingLine.dataset.chat || typingLine.dataset.chat !== chat.id) typingLine.textContent = "";
}

sendFile.addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", async () => {
  const [file] = fileInput.files;
  fileInput.value = "";
  const chat = desk.currentChat;
  if (!file || !chat) return;
  const form = new FormData();
  form.append("file", file, file.name);
  desk.notice(format(gettext("Sending %(name)s…"), { name: file.name }));
  try {
    const response = await fetch(`/dashboard/chats/${chat.id}/attachments`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: form,
    });
    const data = await response.json().catch(() => ({}));
    desk.notice(
      response.ok
        ? format(gettext("%(name)s was sent."), { name: file.name })
        : data.message || format(gettext("%(name)s could not be sent."), { name: file.name }),
    );
  } catch {
    desk.notice(format(gettext("%(name)s could not be sent. Check the connection."), { name: file.name }));
  }
});

// --- Typing -------------------------------------------------------------------------------

$("message-input").addEventListener("input", () => {
  const chat = desk.currentChat;
  const now = Date.now();
  if (chat && ownsCurrent() && $("message-input").value.trim() && now - lastTypingSent > TYPING_EVERY_MS) {
    lastTypingSent = now;
    desk.send({ type: "typing", chat: chat.id, active: true });
  }
});
$("composer").addEventListener("submit", () => {
  const chat = desk.currentChat;
  if (chat && lastTypingSent) desk.send({ type: "typing", chat: chat.id, active: false });
  lastTypingSent = 0;
});

function showTyping(frame) {
  clearTimeout(typingTimer);
  if (!desk.currentChat || frame.chat !== desk.currentChat.id) return;
  typingLine.dataset.chat = frame.chat;
  typingLine.textContent = frame.active
    ? format(gettext("%(name)s is typing…"), { name: frame.name || gettext("The patron") })
    : "";
  if (frame.active) typingTimer = setTimeout(() => (typingLine.textContent = ""), TYPING_SHOWN_MS);
}

// --- Screenshare ----------------------------------------------------------------------------

shareButton.addEventListener("click", () => {
  const chat = desk.currentChat;
  if (!chat) return;
  share = { chat: chat.id, pc: null, pendingIce: [], remoteSet: false };
  panelText.textContent = gettext("Screenshare requested. Waiting for the patron to accept…");
  video.hidden = true;
  refresh();
  desk.send({ type: "screenshare.request", chat: chat.id });
});

function endShare(text) {
  if (share && share.pc) share.pc.close();
  share = null;
  video.srcObject = null;
  video.hidden = true;
  if (text) desk.notice(text);
  refresh();
}

stopButton.addEventListener("click", () => {
  if (share) desk.send({ type: "screenshare.stop", chat: share.chat });
  endShare(gettext("Screenshare stopped."));
  shareButton.focus();
});

function peer(iceServers) {
  const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
  const chat = share.chat;
  pc.addEventListener("icecandidate", (event) => {
    desk.send({ type: "rtc.ice", chat, candidate: event.candidate ? event.candidate.toJSON() : null });
  });
  pc.addEventListener("track", (event) => {
    video.srcObject = event.streams[0] || new MediaStream([event.track]);
    video.hidden = false;
    panelText.textContent = gettext("You are seeing the patron's screen.");
    video.play().catch(() => {});
  });
  return pc;
}

async function answerOffer(frame) {
  if (!share.pc) share.pc = peer(share.iceServers);
  await share.pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
  share.remoteSet = true;
  for (const candidate of share.pendingIce.splice(0)) await share.pc.addIceCandidate(candidate).catch(() => {});
  await share.pc.setLocalDescription(await share.pc.createAnswer());
  desk.send({ type: "rtc.answer", chat: share.chat, sdp: share.pc.localDescription.sdp });
}

function onShareFrame(frame) {
  if (!share || frame.chat !== share.chat) {
    if (frame.type === "screenshare.requested" && desk.currentChat && frame.chat === desk.currentChat.id) {
      // Requested from another tab of mine: follow it here too.
      share = { chat: frame.chat, pc: null, pendingIce: [], remoteSet: false };
      panelText.textContent = gettext("Screenshare requested. Waiting for the patron to accept…");
      refresh();
    }
    return;
  }
  switch (frame.type) {
    case "screenshare.accepted":
      if (frame.mode === "meeting") {
        panelText.textContent = gettext("The patron accepted. The meeting link is in the conversation.");
      } else {
        share.iceServers = frame.ice_servers;
        panelText.textContent = gettext("The patron accepted. Connecting to their screen…");
      }
      break;
    case "screenshare.declined":
      endShare(gettext("The patron declined the screenshare."));
      break;
    case "screenshare.ended":
      endShare(frame.by === "patron" ? gettext("The patron stopped sharing.") : gettext("Screenshare ended."));
      break;
    case "rtc.offer":
      answerOffer(frame).catch(() => {
        desk.send({ type: "screenshare.stop", chat: share.chat });
        endShare(gettext("The screenshare could not connect."));
      });
      break;
    case "rtc.ice":
      if (!frame.candidate) break;
      if (share.pc && share.remoteSet) share.pc.addIceCandidate(frame.candidate).catch(() => {});
      else share.pendingIce.push(frame.candidate);
      break;
    default:
      break;
  }
}

desk.onFrame((frame) => {
  if (frame.type === "typing") showTyping(frame);
  else if (frame.type === "message.new" && frame.message.sender === "patron") showTyping({ chat: frame.chat, active: false });
  else if (frame.type.startsWith("screenshare.") || frame.type.startsWith("rtc.")) onShareFrame(frame);
  else if (frame.type === "chat.ended" && share && share.chat === frame.chat) endShare("");
  else if (frame.type === "error" && ["share_busy", "no_share", "no_share_request"].includes(frame.code) && share) {
    endShare("");
  }
  if (["chat.opened", "chat.claimed", "chat.closed", "chat.ended", "dashboard.state"].includes(frame.type)) {
    setTimeout(refresh, 0); // the dashboard updates its state right after its listeners
  }
});
document.addEventListener("libdesk:chat-opened", () => setTimeout(refresh, 0));
refresh();

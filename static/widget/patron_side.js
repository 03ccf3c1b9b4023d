// The patron's side in full (issue 7): files (attach button and drag-and-drop), typing
// indicators, screenshare (accept/decline, the "you are sharing" banner, WebRTC), the
// rating form and "Delete this conversation". app.js owns the socket; this module hears
// every frame through onFrame(). Text goes in with textContent only.
import { format, formatNumber, gettext } from "../common/i18n.js";
import { decorateMessages } from "../common/live.js";

const $ = (id) => document.getElementById(id);
const root = document.getElementById("widget");
const TYPING_EVERY_MS = 2000; // at most one "typing" frame per 2 s
const TYPING_SHOWN_MS = 6000;

function humanSize(size) {
  if (size < 1024) return format(gettext("%(size)s bytes"), { size: formatNumber(size) });
  if (size < 1024 * 1024) return format(gettext("%(size)s KB"), { size: formatNumber(Math.round(size / 1024)) });
  return format(gettext("%(size)s MB"), { size: formatNumber(Number((size / (1024 * 1024)).toFixed(1))) });
}

export function setupPatronSide({ send, token, forget, newClientId }) {
  const maxBytes = Number(root.dataset.maxFileBytes);
  const attachStatus = $("attach-status");
  const typingLine = $("typing");
  let typingTimer = null;
  let lastTypingSent = 0;
  let share = null; // {mode, stream, pc, pendingIce: []}

  // --- Files -----------------------------------------------------------------------------

  async function download(attachment, button) {
    button.disabled = true;
    try {
      const response = await fetch(attachment.url, {
        credentials: "omit",
        headers: { Authorization: `Bearer ${token()}` },
      });
      if (!response.ok) throw new Error(String(response.status));
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = attachment.name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch {
      attachStatus.textContent = format(gettext("%(name)s could not be downloaded. Please try again."), {
        name: attachment.name,
      });
    } finally {
      button.disabled = false;
    }
  }

  decorateMessages((li, message) => {
    const attachment = message.attachment;
    if (!attachment) return;
    li.classList.add("msg-file");
    const meta = document.createElement("span");
    meta.className = "file-meta";
    meta.textContent = `${attachment.type}, ${attachment.size_label}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = gettext("Download");
    button.setAttribute("aria-label", format(gettext("Download %(name)s"), { name: attachment.name }));
    button.addEventListener("click", () => download(attachment, button));
    li.querySelector(".msg-body").after(meta, button);
  });

  async function upload(file) {
    if (!file || !token()) return;
    $("send-error").textContent = "";
    if (file.size > maxBytes) {
      attachStatus.textContent = format(gettext("%(name)s is too large (%(size)s); the limit is %(limit)s."), {
        name: file.name,
        size: humanSize(file.size),
        limit: humanSize(maxBytes),
      });
      return;
    }
    attachStatus.textContent = format(gettext("Sending %(name)s…"), { name: file.name });
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("client_id", newClientId());
    try {
      const response = await fetch(root.dataset.attachmentUrl, {
        method: "POST",
        credentials: "omit",
        headers: { Authorization: `Bearer ${token()}`, "Accept-Language": document.documentElement.lang },
        body: form,
      });
      const data = await response.json().catch(() => ({}));
      attachStatus.textContent = response.ok
        ? format(gettext("%(name)s was sent."), { name: file.name })
        : data.message || format(gettext("%(name)s could not be sent."), { name: file.name });
    } catch {
      attachStatus.textContent = format(gettext("%(name)s could not be sent. Check your connection and try again."), {
        name: file.name,
      });
    }
  }

  $("attach").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    upload(file);
  });
  const dropZone = $("state-chat");
  dropZone.addEventListener("dragover", (event) => {
    if (![...event.dataTransfer.types].includes("Files") || $("composer").hidden) return;
    event.preventDefault();
    dropZone.classList.add("dropping");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dropping"));
  dropZone.addEventListener("drop", (event) => {
    dropZone.classList.remove("dropping");
    if (!event.dataTransfer.files.length || $("composer").hidden) return;
    event.preventDefault();
    if (event.dataTransfer.files.length > 1) attachStatus.textContent = gettext("One file at a time, please.");
    upload(event.dataTransfer.files[0]);
  });

  // --- Typing ---------------------------------------------------------------------------

  const input = $("message-input");
  input.addEventListener("input", () => {
    const now = Date.now();
    if (input.value.trim() && now - lastTypingSent > TYPING_EVERY_MS) {
      lastTypingSent = now;
      send({ type: "typing", active: true });
    }
  });
  $("composer").addEventListener("submit", () => {
    if (lastTypingSent) send({ type: "typing", active: false });
    lastTypingSent = 0;
  });

  function showTyping(frame) {
    clearTimeout(typingTimer);
    typingLine.textContent = frame.active
      ? format(gettext("%(name)s is typing…"), { name: frame.name || gettext("Librarian") })
      : "";
    if (frame.active) typingTimer = setTimeout(() => (typingLine.textContent = ""), TYPING_SHOWN_MS);
  }

  // --- Screenshare -----------------------------------------------------------------------

  const panel = $("screenshare");
  const panelText = $("screenshare-text");
  const acceptButton = $("screenshare-accept");
  const declineButton = $("screenshare-decline");
  const stopButton = $("screenshare-stop");
  let request = null; // the pending screenshare.requested frame

  function showPanel(text, { asking = false, sharing = false } = {}) {
    panel.hidden = !text;
    panelText.textContent = text;
    acceptButton.hidden = !asking;
    declineButton.hidden = !asking;
    stopButton.hidden = !sharing;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function endShare() {
    if (share) {
      if (share.stream) for (const track of share.stream.getTracks()) track.stop();
      if (share.pc) share.pc.close();
    }
    share = null;
    request = null;
    showPanel("");
  }

  async function startOffer(iceServers) {
    const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    share.pc = pc;
    for (const track of share.stream.getTracks()) pc.addTrack(track, share.stream);
    pc.addEventListener("icecandidate", (event) => {
      send({ type: "rtc.ice", candidate: event.candidate ? event.candidate.toJSON() : null });
    });
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "rtc.offer", sdp: pc.localDescription.sdp });
  }

  acceptButton.addEventListener("click", async () => {
    if (!request) return;
    if (request.mode === "meeting") {
      const url = safeUrl(request.meeting_url);
      send({ type: "screenshare.accept" });
      if (url) window.open(url, "_blank", "noopener");
      share = { mode: "meeting" };
      showPanel(gettext("You accepted the screen-sharing meeting. The link is in the conversation."), {
        sharing: true,
      });
      stopButton.textContent = gettext("End screen sharing");
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      share = { mode: "webrtc", stream, pc: null };
      for (const track of stream.getTracks()) {
        track.addEventListener("ended", () => {
          if (share) send({ type: "screenshare.stop" });
          endShare();
        });
      }
      send({ type: "screenshare.accept" });
      stopButton.textContent = gettext("Stop sharing");
      showPanel(gettext("You are sharing your screen with the librarian."), { sharing: true });
      stopButton.focus();
    } catch {
      send({ type: "screenshare.decline" });
      showPanel("");
    }
  });
  declineButton.addEventListener("click", () => {
    send({ type: "screenshare.decline" });
    request = null;
    showPanel("");
    input.focus();
  });
  stopButton.addEventListener("click", () => {
    send({ type: "screenshare.stop" });
    endShare();
    input.focus();
  });

  // --- Rating and deleting --------------------------------------------------------------

  $("rating-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = document.querySelector('#rating-form input[name="score"]:checked');
    if (!chosen) {
      $("rating-result").textContent = gettext("Choose a rating from 1 to 5 first.");
      return;
    }
    const sent = send({ type: "chat.rate", score: Number(chosen.value), comment: $("rating-comment").value.trim() });
    $("rating-result").textContent = sent
      ? gettext("Sending…")
      : gettext("Not connected. Please try again in a moment.");
  });
  $("delete-chat").addEventListener("click", () => {
    $("delete-confirm").hidden = false;
    $("delete-chat").hidden = true;
    $("delete-no").focus();
  });
  $("delete-no").addEventListener("click", () => {
    $("delete-confirm").hidden = true;
    $("delete-chat").hidden = false;
    $("delete-chat").focus();
  });
  $("delete-yes").addEventListener("click", () => {
    if (!send({ type: "chat.delete" })) {
      $("delete-question").textContent = gettext("Not connected. Please try again in a moment.");
    }
  });

  function reset() {
    endShare();
    typingLine.textContent = "";
    attachStatus.textContent = "";
    $("rating-form").reset();
    $("rating-result").textContent = "";
    $("delete-confirm").hidden = true;
    $("delete-chat").hidden = false;
  }

  // --- Frames ---------------------------------------------------------------------------

  function onFrame(frame) {
    switch (frame.type) {
      case "typing":
        showTyping(frame);
        break;
      case "message.new":
        if (frame.message.sender === "operator") showTyping({ active: false });
        break;
      case "screenshare.requested":
        request = frame;
        showPanel(
          frame.mode === "meeting"
            ? gettext("The librarian invites you to a screen-sharing meeting. Would you like to join?")
            : gettext(
                "The librarian asks to see your screen. Only the librarian will see it, and you can stop at any time.",
              ),
          { asking: true },
        );
        acceptButton.textContent = frame.mode === "meeting" ? gettext("Join the meeting") : gettext("Share my screen");
        acceptButton.focus();
        break;
      case "screenshare.accepted":
        if (share && share.mode === "webrtc" && share.stream && !share.pc) {
          startOffer(frame.ice_servers).catch(() => {
            send({ type: "screenshare.stop" });
            endShare();
          });
        }
        break;
      case "screenshare.declined":
      case "screenshare.ended":
        endShare();
        break;
      case "rtc.answer":
        if (share && share.pc) {
          share.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp }).catch(() => {});
        }
        break;
      case "rtc.ice":
        if (share && share.pc && frame.candidate) share.pc.addIceCandidate(frame.candidate).catch(() => {});
        break;
      case "chat.ended":
        endShare();
        typingLine.textContent = "";
        break;
      case "chat.rated":
        $("rating-result").textContent = gettext("Thank you for your rating!");
        break;
      case "chat.deleted":
        forget();
        $("widget-notice").textContent = gettext("Your conversation was deleted.");
        break;
      case "error":
        if (["invalid", "not_ended", "too_long"].includes(frame.code) && !$("ended").hidden) {
          $("rating-result").textContent = frame.message;
        }
        if (["no_share_request", "no_share"].includes(frame.code)) endShare();
        break;
      default:
        break;
    }
  }

  return { onFrame, reset };
}

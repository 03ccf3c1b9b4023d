// What the widget tells the library's page (static/widget/loader.js) by postMessage:
// that it wants to close, that the patron chose a language (the loader opens the widget in
// it from then on), and whether a chat is in progress (the launcher says so after a
// reload). Nothing about the conversation itself leaves the iframe.
import { language } from "./session.js";

function tellHost(message) {
  window.parent.postMessage(message, "*");
}

export function requestClose() {
  tellHost({ type: "libdesk:close" });
}

export function reportLanguage(lang) {
  tellHost({ type: "libdesk:language", lang });
}

export function reportChat(inProgress) {
  tellHost({ type: "libdesk:chat", in_progress: !!inProgress, lang: language });
}

// What every part of the widget shares: the page's settings, the patron's session (the
// token that opens their chat, kept in storage) and the live chat's state.
import { store } from "./storage.js";

export const $ = (id) => document.getElementById(id);

export const root = $("widget");
export const slug = root.dataset.slug;
export const maxLength = Number(root.dataset.maxLength);
export const outboxKey = `libdesk:outbox:${slug}`;
// The widget's language (libdesk.i18n.widget_language): the desk answers in it.
export const language = root.dataset.language || document.documentElement.lang;
const sessionKey = `libdesk:chat:${slug}`;

export const widget = {
  session: store.get(sessionKey), // {token, chat} once a chat has started
  lastSeq: 0, // the last message sequence number shown
  chatState: null, // the chat as the server last described it
  socket: null, // the chat's LiveSocket
};

export function hasChat() {
  return !!(widget.session && widget.session.token);
}

export function saveSession(session) {
  widget.session = session;
  store.set(sessionKey, session);
}

export function clearSession() {
  store.remove(sessionKey);
  widget.session = null;
  widget.lastSeq = 0;
}

// POST a JSON body to the desk, without cookies; resolves to {ok, data} (data {} when
// the answer is not JSON). Rejects only when the network fails.
export async function postJSON(url, body, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json", "Accept-Language": language, ...headers },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, data };
}

// The patron's chat, inside the widget iframe: this module wires the parts together.
// The patron's token lives in this iframe's own storage (never a cookie: third-party
// cookies are blocked in many browsers) and goes to the server in the socket's first
// frame.
//
//   session.js       shared settings, the patron's session, postJSON
//   storage.js       localStorage that degrades to memory
//   view.js          which state shows; the chat's status line
//   start.js         presence before a chat, and the start form
//   conversation.js  the socket, the transcript, the ended state
//   composer.js      the message box and its outbox (nothing typed is lost)
//   tickets.js       the offline question form and the request for an email address
//   ended.js         "Email me this transcript"
//   patron_side.js   typing, files, screenshare, rating, deletion (issue 7)
//   host.js          what the library's page hears: close, language, chat in progress
import { newClientId } from "../common/live.js";
import { forget, setHooks } from "./conversation.js";
import { resetTranscriptRequest } from "./ended.js";
import { reportLanguage, requestClose } from "./host.js";
import { setupPatronSide } from "./patron_side.js";
import { $, widget } from "./session.js";
import { start } from "./start.js";

$("new-chat").addEventListener("click", () => {
  forget();
  resetTranscriptRequest();
});

// The patron's language choice: the loader keeps it for the library's next pages, and
// this page reloads in it; the conversation (kept in this iframe's storage) resumes.
$("widget-language").addEventListener("change", (event) => {
  const lang = event.target.value;
  reportLanguage(lang);
  const url = new URL(location.href);
  url.searchParams.set("lang", lang);
  location.replace(url.href);
});

$("close-widget").addEventListener("click", requestClose);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") requestClose();
});

const patronSide = setupPatronSide({
  send: (frame) => !!widget.socket && widget.socket.send(frame),
  token: () => widget.session && widget.session.token,
  forget: () => forget(),
  newClientId,
});
setHooks({ patronSide, restart: start });

start();

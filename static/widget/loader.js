/*
 * LibDesk widget loader: the one <script> tag a library puts on its site.
 *
 *   <script src="https://desk.example.edu/static/widget/loader.js"
 *           data-department="reference" data-lang="es" async></script>
 *
 * Tiny and dependency-free. Until the patron opens the chat it adds one button and
 * nothing else: no cookie, no request, no storage (it only reads what it stored itself).
 * The chat lives in an iframe served by the desk, created on the first open. Once the
 * patron has used it, this tab's sessionStorage keeps one entry for the launcher: whether
 * a chat is in progress and the language the patron chose (never a token or a word of
 * the conversation, which stay in the iframe's own storage).
 *
 * Language (docs/protocol.md, "Languages"): the patron's own choice made in the widget,
 * else data-lang, else the page's <html lang>;
 * passed to the iframe as ?lang=. With none, the desk uses the browser's Accept-Language.
 * The launcher's few words come from the table below (no request before the patron opens
 * the chat); tests/libdesk/test_i18n.py keeps it equal to the desk's catalogs.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__libdeskLoaded) return;
  window.__libdeskLoaded = true;
  var desk = new URL(script.src).origin;
  var department = script.getAttribute("data-department") || "reference";
  var memoryKey = "libdesk:" + desk + ":" + department;
  var panel = null;
  var frame = null;

  var STRINGS = { // i18n: table of the launcher's words, compared with the catalogs
    es: {
      "Ask a librarian": "Pregunte a un bibliotecario",
      "Chat in progress": "Chat en curso",
      "Chat with the library": "Chat con la biblioteca"
    },
    ar: {
      "Ask a librarian": "اسأل أمين المكتبة",
      "Chat in progress": "محادثة جارية",
      "Chat with the library": "محادثة مع المكتبة"
    }
  };
  var RTL = { ar: true };

  // What this loader stored after the patron opened the chat: {lang, in_progress}.
  function remembered() {
    try {
      return JSON.parse(sessionStorage.getItem(memoryKey)) || {};
    } catch (e) {
      return {};
    }
  }
  function remember(changes) {
    var state = remembered();
    for (var key in changes) state[key] = changes[key];
    try { sessionStorage.setItem(memoryKey, JSON.stringify(state)); } catch (e) { /* storage refused */ }
  }

  function clean(code) {
    code = (code || "").trim();
    return /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(code) ? code : "";
  }
  var language = clean(remembered().lang) || clean(script.getAttribute("data-lang")) ||
    clean(document.documentElement.getAttribute("lang"));
  var primary = language.toLowerCase().split("-")[0];

  function gettext(text) {
    var table = STRINGS[primary];
    return (table && table[text]) || text;
  }

  function css(el, styles) {
    for (var key in styles) el.style[key] = styles[key];
  }

  var label = script.getAttribute("data-label") || gettext("Ask a librarian");
  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("data-libdesk", "launcher");
  if (language) launcher.lang = language;
  var side = RTL[primary] ? "left" : "right";
  if (RTL[primary]) launcher.dir = "rtl";
  css(launcher, {
    position: "fixed", bottom: "16px", zIndex: "2147483000",
    minHeight: "44px", minWidth: "44px", padding: "10px 18px", border: "2px solid #ffffff",
    borderRadius: "22px", background: "#1d4f91", color: "#ffffff", font: "600 16px/1.2 system-ui, sans-serif",
    cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.35)"
  });
  launcher.style[side] = "16px";

  // After a reload the widget is closed: the launcher says a chat is still going on
  // ("Ask a librarian · Chat in progress"), keeping its own name first.
  function showChatState(inProgress) {
    launcher.textContent = label;
    if (inProgress) {
      var badge = document.createElement("span");
      badge.textContent = " · " + gettext("Chat in progress");
      css(badge, { fontWeight: "400" });
      launcher.appendChild(badge);
    }
    launcher.setAttribute("data-chat", inProgress ? "in-progress" : "none");
  }
  showChatState(!!remembered().in_progress);

  function open() {
    if (!panel) {
      panel = document.createElement("div");
      panel.setAttribute("data-libdesk", "panel");
      css(panel, {
        position: "fixed", bottom: "72px", zIndex: "2147483000",
        width: "min(380px, calc(100vw - 32px))", height: "min(600px, calc(100vh - 96px))",
        boxShadow: "0 4px 18px rgba(0,0,0,.35)", borderRadius: "10px", overflow: "hidden", background: "#ffffff"
      });
      panel.style[side] = "16px";
      frame = document.createElement("iframe");
      frame.title = gettext("Chat with the library");
      frame.setAttribute("data-libdesk", "frame");
      // The page the patron came from, without its query string (privacy).
      var page = location.origin + location.pathname;
      var query = language ? "?lang=" + encodeURIComponent(language) : "";
      frame.src = desk + "/widget/" + encodeURIComponent(department) + "/" + query + "#page=" + encodeURIComponent(page);
      frame.setAttribute("allow", "display-capture; clipboard-write");
      css(frame, { border: "0", width: "100%", height: "100%" });
      panel.appendChild(frame);
      document.body.appendChild(panel);
    }
    panel.style.display = "block";
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
    try { frame.contentWindow.postMessage({ type: "libdesk:opened" }, desk); } catch (e) { /* not loaded yet */ }
  }

  function close() {
    if (panel) panel.style.display = "none";
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel && panel.style.display !== "none") close(); else open();
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== desk || !event.data || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data.type === "libdesk:close") close();
    if (data.type === "libdesk:language" && clean(data.lang)) {
      language = clean(data.lang);
      primary = language.toLowerCase().split("-")[0];
      remember({ lang: language });
      frame.title = gettext("Chat with the library");
    }
    if (data.type === "libdesk:chat") {
      if (!!data.in_progress !== !!remembered().in_progress) remember({ in_progress: !!data.in_progress });
      showChatState(!!data.in_progress);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel && panel.style.display !== "none") close();
  });

  function mount() { document.body.appendChild(launcher); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

/*
 * LibDesk widget loader: the one <script> tag a library puts on its site.
 *
 *   <script src="https://desk.example.edu/static/widget/loader.js"
 *           data-department="reference" async></script>
 *
 * Tiny and dependency-free. Until the patron opens the chat it adds one button and
 * nothing else: no cookie, no storage, no request. The chat itself lives in an iframe
 * served by the desk, created on the first open.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__libdeskLoaded) return;
  window.__libdeskLoaded = true;
  var desk = new URL(script.src).origin;
  var department = script.getAttribute("data-department") || "reference";
  var label = script.getAttribute("data-label") || "Ask a librarian";
  var panel = null;
  var frame = null;

  function css(el, styles) {
    for (var key in styles) el.style[key] = styles[key];
  }

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.textContent = label;
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("data-libdesk", "launcher");
  css(launcher, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000",
    minHeight: "44px", minWidth: "44px", padding: "10px 18px", border: "2px solid #ffffff",
    borderRadius: "22px", background: "#1d4f91", color: "#ffffff", font: "600 16px/1.2 system-ui, sans-serif",
    cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.35)"
  });

  function open() {
    if (!panel) {
      panel = document.createElement("div");
      panel.setAttribute("data-libdesk", "panel");
      css(panel, {
        position: "fixed", right: "16px", bottom: "72px", zIndex: "2147483000",
        width: "min(380px, calc(100vw - 32px))", height: "min(600px, calc(100vh - 96px))",
        boxShadow: "0 4px 18px rgba(0,0,0,.35)", borderRadius: "10px", overflow: "hidden", background: "#ffffff"
      });
      frame = document.createElement("iframe");
      frame.title = "Chat with the library";
      // The page the patron came from, without its query string (privacy).
      var page = location.origin + location.pathname;
      frame.src = desk + "/widget/" + encodeURIComponent(department) + "/#page=" + encodeURIComponent(page);
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
    if (event.origin !== desk || !event.data || event.data.type !== "libdesk:close") return;
    close();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel && panel.style.display !== "none") close();
  });

  function mount() { document.body.appendChild(launcher); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

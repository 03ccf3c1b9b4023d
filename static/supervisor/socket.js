// The supervisor's read-only socket (/ws/supervisor/), reconnecting after a drop.
// onFrame gets every frame; onOpen runs after each (re)connect, to read state again.
import { gettext } from "../common/i18n.js";

const RETRY_MS = [1000, 2000, 5000, 10000];

export function openSupervisorSocket({ onFrame, onOpen }) {
  const status = document.getElementById("supervisor-connection");
  let attempt = 0;
  let socket = null;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/supervisor/`);
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "supervisor.ready") {
        attempt = 0;
        if (status) status.textContent = gettext("Live");
        onOpen?.(socket);
      } else if (frame.type === "error") {
        if (status) status.textContent = frame.message;
      }
      onFrame(frame, socket);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) return; // not allowed: do not retry
      if (status) status.textContent = gettext("Reconnecting…");
      setTimeout(connect, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    });
  };
  connect();
  return () => socket;
}

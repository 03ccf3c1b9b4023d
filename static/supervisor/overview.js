// The supervisor's overview, live: after any change in the supervised departments the
// page reads /supervisor/live again (the database is the source of truth) and redraws
// the two tables. Text goes in with textContent only.
import { gettext } from "../common/i18n.js";
import { openSupervisorSocket } from "./socket.js";

const script = document.querySelector("script[data-live-url]");
const LIVE_URL = script.dataset.liveUrl;
const chatsBody = document.getElementById("live-chats");
const staffBody = document.getElementById("staff-on-duty");
const WATCH_URL = chatsBody.dataset.watchUrl;
const NIL = "00000000-0000-0000-0000-000000000000";

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

function hhmm(iso) {
  const when = new Date(iso);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function drawChats(chats) {
  const rows = chats.map((chat) => {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = WATCH_URL.replace(NIL, chat.id);
    link.textContent = chat.patron;
    cell(row, "").append(link);
    cell(row, chat.department);
    cell(row, chat.status_label);
    cell(row, chat.operator || gettext("Nobody yet"));
    const time = document.createElement("time");
    time.dateTime = chat.created_at;
    time.textContent = hhmm(chat.created_at);
    cell(row, "").append(time);
    cell(row, String(chat.messages));
    return row;
  });
  chatsBody.replaceChildren(...rows);
  document.getElementById("live-chats-empty").hidden = chats.length > 0;
}

function drawStaff(staff) {
  staffBody.replaceChildren(
    ...staff.map((person) => {
      const row = document.createElement("tr");
      cell(row, `${person.name} (${person.username})`);
      cell(row, person.status_label);
      cell(row, String(person.active_chats));
      return row;
    }),
  );
}

let pending = null;
async function refresh() {
  const response = await fetch(LIVE_URL, { credentials: "same-origin" });
  if (!response.ok) return;
  const live = await response.json();
  drawChats(live.chats);
  drawStaff(live.staff);
}

function refreshSoon() {
  // Events come in bursts (a claim is a claim, a queue change and a presence change).
  clearTimeout(pending);
  pending = setTimeout(refresh, 150);
}

openSupervisorSocket({
  onOpen: refreshSoon,
  onFrame: (frame) => {
    if (frame.type === "supervisor.changed") refreshSoon();
  },
});

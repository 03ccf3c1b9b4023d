// How an internal chat is shown (internal.js): its label and details in a list, and the
// Archived view's list. Text goes in with textContent only (el() never parses markup).
import { el } from "../common/dom.js";
import { format, gettext, ngettext, pageLanguage } from "../common/i18n.js";

export function label(summary, viewer) {
  const mine = viewer && summary.created_by.id === viewer.id;
  if (mine) return format(gettext("To %(name)s"), { name: summary.to_label });
  return summary.to_department
    ? format(gettext("From %(name)s to %(to)s"), { name: summary.created_by.name, to: summary.to_label })
    : format(gettext("From %(name)s"), { name: summary.created_by.name });
}

// One of its two colleagues: a closed chat stays in their list until they archive it.
export function isParticipant(summary, viewer) {
  const ids = [summary.created_by.id, summary.to_operator && summary.to_operator.id, summary.answered_by && summary.answered_by.id];
  return Boolean(viewer) && ids.includes(viewer.id);
}

export function describe(summary) {
  const details = [];
  if (summary.about) details.push(format(gettext("About %(name)s's chat"), { name: summary.about.patron_name }));
  if (summary.answered_by) details.push(format(gettext("Answered by %(name)s"), { name: summary.answered_by.name }));
  else if (summary.to_department) details.push(gettext("Not answered yet"));
  if (summary.closed) details.push(gettext("Closed"));
  return details;
}

export function renderArchiveList(listNode, metaNode, view, { viewer, open }) {
  const items = view.chats.map((summary) => {
    const li = el("li", { className: "chat-item" });
    const name = el("strong", { id: `ia-${summary.id}` }, label(summary, viewer));
    li.append(el("p", { className: "chat-item-title" }, name));
    const when = new Date(summary.archived_at).toLocaleString(pageLanguage, { dateStyle: "medium", timeStyle: "short" });
    const details = [...describe(summary), format(gettext("Archived %(when)s"), { when })];
    li.append(el("p", { className: "chat-item-preview" }, details.join(" · ")));
    const read = el("button", { type: "button", className: "button" }, gettext("Read"));
    read.setAttribute("aria-describedby", name.id);
    read.addEventListener("click", () => open(summary.id));
    li.append(read);
    return li;
  });
  listNode.replaceChildren(...items);
  const { total, shown } = view;
  metaNode.textContent =
    total === 0
      ? gettext("You have no archived internal chats.")
      : total > shown
        ? format(gettext("The %(shown)s most recently archived of %(total)s."), { shown, total })
        : format(
            ngettext(
              "%(total)s archived internal chat.",
              "%(total)s archived internal chats.",
              total,
            ),
            { total },
          );
}

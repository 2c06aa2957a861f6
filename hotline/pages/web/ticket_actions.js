// What an agent does about a call: a note on a ticket, resolve or escalate it, and the call's
// wrap-up. These routes come from the CRM's work; until they exist the form says so.
import { ApiError, api } from "./api.js";
import { el, replace } from "./dom.js";
import { bi, text } from "./labels.js";

const RESOLUTIONS = [["information", "已解答", "Information given"], ["fixed", "已处理", "Fixed"],
  ["refund", "已退款", "Refunded"], ["no_fault", "无需处理", "No fault found"], ["other", "其他", "Other"]];
const WRAP_UP_CODES = [["resolved", "已解决", "Resolved"], ["follow_up", "需跟进", "Needs follow-up"],
  ["transferred", "已转部门", "Passed to a department"], ["callback", "需回呼", "Callback needed"],
  ["other", "其他", "Other"]];

function options(list) {
  return list.map(([value, zh, en]) => el("option", { value, text: `${zh} ${en}` }));
}

function explain(error) {
  if (!(error instanceof ApiError)) return text(["无法连接服务器", "The server cannot be reached"]);
  if (error.notAvailable) return text(["此功能尚未开放", "Not available yet"]) + ` (${error.status})`;
  const detail = error.body?.detail;
  const said = typeof detail === "string" ? detail : detail?.message || error.body?.error || "";
  return `${text(["未成功", "Not done"])} (${error.status}) ${said}`.trim();
}

function form(name, title, fields, send) {
  const status = el("p", { className: "message", "data-status": name });
  const button = el("button", { type: "submit" }, bi(["提交", "Submit"]));
  const element = el("form", { className: `action action-${name}`, "data-action": name },
    el("h3", {}, bi(title)), fields, button, status);
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "";
    try {
      await send();
      status.textContent = text(["已保存", "Saved"]);
      element.reset();
    } catch (error) {
      status.textContent = explain(error);
    }
    button.disabled = false;
  });
  return element;
}

const field = (label, input) => el("label", {}, bi(label), input);

export function ticketActions(callSid) {
  const ticket = el("select", { name: "ticket", "aria-label": "ticket" });
  const post = (path, body) => api(path, { method: "POST", body });
  const chosen = () => encodeURIComponent(ticket.value);
  const note = el("textarea", { maxlength: 4000, required: true, rows: 3 });
  const internal = el("input", { type: "checkbox", checked: true });
  const code = el("select", {}, options(RESOLUTIONS));
  const summary = el("textarea", { maxlength: 4000, required: true, rows: 2 });
  const reason = el("textarea", { maxlength: 2000, required: true, rows: 2 });
  const wrapCode = el("select", {}, options(WRAP_UP_CODES));
  const wrapNote = el("textarea", { maxlength: 4000, rows: 2 });
  const ticketForms = el("div", { className: "ticket-forms" },
    form("note", ["添加备注", "Add a note"],
      [field(["内容", "Text"], note), field(["仅内部可见", "Internal only"], internal)],
      () => post(`/api/tickets/${chosen()}/notes`, { text: note.value, internal: internal.checked })),
    form("resolve", ["解决工单", "Resolve"],
      [field(["解决方式", "Resolution"], code), field(["摘要", "Summary"], summary)],
      () => post(`/api/tickets/${chosen()}/transition`,
        { to: "resolved", resolution_code: code.value, summary: summary.value })),
    form("escalate", ["升级", "Escalate"], [field(["原因", "Reason"], reason)],
      () => post(`/api/tickets/${chosen()}/escalate`, { reason: reason.value })));
  const element = el("section", { className: "actions" },
    el("div", { className: "ticket-choice" }, field(["工单", "Ticket"], ticket)), ticketForms,
    form("wrap-up", ["话后小结", "Wrap-up"],
      [field(["小结代码", "Code"], wrapCode), field(["说明", "Note"], wrapNote)],
      () => post(`/api/calls/${encodeURIComponent(callSid)}/wrap-up`, { code: wrapCode.value, note: wrapNote.value })));
  return {
    element,
    setTickets(tickets) {
      const keep = ticket.value;
      replace(ticket, tickets.map((t) => el("option", { value: t.number, text: `${t.number} ${t.subject}` })));
      if (tickets.some((t) => t.number === keep)) ticket.value = keep;
      ticketForms.hidden = tickets.length === 0;
    },
  };
}

// The call on the agent's desk: who is calling (the screen pop), their open tickets with the
// latest of each timeline, and what the agent can do about them.
import { el, replace } from "./dom.js";
import { bi, clockTime, queueLabel, seconds } from "./labels.js";
import { ticketActions } from "./ticket_actions.js";

const PHASES = {
  offered: ["来电振铃", "Incoming call"],
  connected: ["通话中", "On the call"],
  wrap_up: ["话后处理", "Wrap-up"],
  ended: ["通话已结束", "Call ended"],
};
const SEGMENTS = { vip: ["贵宾", "VIP"], standard: ["普通", "Standard"] };
const LANGUAGES = { zh: ["中文", "Chinese"], en: ["英文", "English"] };
const KINDS = {
  created: ["创建", "Created"], call: ["来电", "Call"], voicemail: ["留言", "Voicemail"],
  callback_scheduled: ["预约回呼", "Callback"], note: ["备注", "Note"],
  status_change: ["状态变更", "Status"], escalation: ["升级", "Escalated"],
};

// One line of what a timeline entry says, from whatever its kind keeps.
function summary(entry) {
  const data = entry.data || {};
  if (entry.kind === "call") {
    return [data.disposition, data.duration_seconds ? seconds(data.duration_seconds) : ""].filter(Boolean).join(" · ");
  }
  if (entry.kind === "status_change") return `${data.from || ""} → ${data.to || ""}`;
  if (entry.kind === "callback_scheduled") return clockTime(data.due_at);
  return data.text || data.summary || data.reason || data.channel || "";
}

function callerCard(caller) {
  const customer = caller.customer;
  return el("div", { className: "caller", id: "caller" },
    el("div", { className: "customer-name", id: "customer-name" },
      customer ? customer.name : bi(["未识别来电", "Unknown caller"])),
    customer ? el("span", { className: `segment segment-${customer.segment}` },
      bi(SEGMENTS[customer.segment] || [customer.segment, customer.segment])) : null,
    customer ? el("span", { className: "language" },
      bi(LANGUAGES[customer.preferred_language] || [customer.preferred_language, customer.preferred_language])) : null,
    el("span", { className: "number", text: caller.number_masked }));
}

function ticketCard(ticket) {
  return el("li", { className: "ticket", "data-ticket": ticket.number },
    el("div", { className: "ticket-head" },
      el("strong", { className: "ticket-number", text: ticket.number }),
      el("span", { className: `priority p${ticket.priority}`, text: `P${ticket.priority}` }),
      ticket.complaint ? el("span", { className: "complaint" }, bi(["投诉", "Complaint"])) : null,
      el("span", { className: "status", text: ticket.status }),
      el("span", { className: "category", text: ticket.category })),
    el("div", { className: "subject", text: ticket.subject }),
    el("ol", { className: "timeline" }, ticket.latest.map((entry) => el("li", {},
      el("span", { className: "time", text: clockTime(entry.at) }),
      el("span", { className: "kind" }, bi(KINDS[entry.kind] || [entry.kind, entry.kind])),
      entry.internal ? null : el("span", { className: "public" }, bi(["客户可见", "customer-facing"])),
      el("span", { className: "what", text: summary(entry) })))));
}

function ticketsList(tickets) {
  return tickets.length
    ? el("ul", { className: "tickets", id: "tickets" }, tickets.map(ticketCard))
    : el("p", { className: "quiet", id: "tickets" }, bi(["没有未结工单", "No open tickets"]));
}

export class CallPanel {
  constructor(container) {
    this.container = container;
    this.call = null;
    this.ended = false;
    this.shown = "";
    replace(container, el("p", { className: "quiet no-call" }, bi(["暂无来电", "No call"])));
  }

  show(call) {
    if (!call) {
      if (this.call && !this.ended) this.end();
      return;
    }
    if (!this.call || call.call_sid !== this.call.call_sid || this.ended) this.build(call);
    this.call = call;
    this.ended = false;
    this.phase(call.phase);
    const tickets = JSON.stringify(call.tickets);
    if (tickets !== this.shown) {
      this.shown = tickets;
      this.container.querySelector("#tickets").replaceWith(ticketsList(call.tickets));
      this.actions.setTickets(call.tickets);
    }
  }

  phase(name) {
    const badge = this.container.querySelector("#phase");
    badge.className = `phase phase-${name}`;
    replace(badge, bi(PHASES[name]));
  }

  build(call) {
    this.shown = "";
    this.actions = ticketActions(call.call_sid);
    replace(this.container,
      el("div", { className: "call-head" },
        el("span", { id: "phase" }),
        el("span", { className: "queue" }, bi(queueLabel(call.queue))),
        el("span", { className: "time", text: clockTime(call.offered_at) })),
      callerCard(call.caller),
      el("h2", {}, bi(["未结工单", "Open tickets"])),
      el("p", { id: "tickets" }),
      this.actions.element);
  }

  end() {
    this.ended = true;
    this.phase("ended");
    const close = el("button", { type: "button", className: "small", onclick: () => {
      this.call = null;
      replace(this.container, el("p", { className: "quiet no-call" }, bi(["暂无来电", "No call"])));
    } }, bi(["关闭", "Close"]));
    this.container.querySelector(".call-head").append(close);
  }
}

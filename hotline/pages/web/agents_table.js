// The agents on the floor: who, in which state, since when, and today's work.
import { el } from "./dom.js";
import { LABELS, bi, clockTime, seconds, stateLabel } from "./labels.js";

const ORDER = ["reserved", "busy", "wrap_up", "available", "missed", "break", "offline"];

function since(iso, now) {
  if (!iso) return "–";
  return `${clockTime(iso)} (${seconds((now - new Date(iso).getTime()) / 1000)})`;
}

export function agentsTable(agents, names, now = Date.now()) {
  const rows = [...agents].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state)
    || String(names.get(a.agent_id) || a.agent_id).localeCompare(String(names.get(b.agent_id) || b.agent_id)));
  const head = [LABELS.agent, LABELS.state, LABELS.since, LABELS.reason, LABELS.handled, LABELS.aht];
  return el("table", {},
    el("caption", {}, bi(LABELS.agents)),
    el("thead", {}, el("tr", {}, head.map((label) => el("th", {}, bi(label))))),
    el("tbody", {}, rows.map((agent) => el("tr", { "data-agent": agent.agent_id },
      el("td", { text: names.get(agent.agent_id) || `#${agent.agent_id}` }),
      el("td", { className: `state state-${agent.state}` }, bi(stateLabel(agent.state))),
      el("td", { text: since(agent.since, now) }),
      el("td", { text: agent.reason || "" }),
      el("td", { text: agent.handled }),
      el("td", { text: seconds(agent.aht_seconds) })))));
}

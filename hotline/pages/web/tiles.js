// One tile per queue (and one for all queues): the figures now, and today's.
import { el } from "./dom.js";
import { LABELS, bi, percent, queueLabel, seconds, stateLabel } from "./labels.js";

// Below the service level a queue should keep (its `service_level_target`) the figure turns
// red, within this margin of it amber.
const SL_WARNING_MARGIN = 0.1;
const AGENT_STATES = ["available", "reserved", "busy", "wrap_up", "break", "missed", "offline"];

export function slClass(ratio, target) {
  if (ratio === null || ratio === undefined) return "";
  if (ratio >= target) return "good";
  return ratio >= target - SL_WARNING_MARGIN ? "warn" : "bad";
}

function figure(name, label, value, className = "") {
  return el("div", { className: `figure ${className}`.trim(), "data-figure": name },
    el("span", { className: "value", text: value }), bi(label, "label"));
}

function agentCounts(agents) {
  return el("ul", { className: "agent-counts" }, AGENT_STATES.filter((state) => agents[state]).map(
    (state) => el("li", { className: `state-${state}` },
      el("span", { className: "count", text: agents[state] }), bi(stateLabel(state)))));
}

export function tile(name, figures) {
  const today = figures.today;
  const label = name === "overall" ? LABELS.overall : queueLabel(name);
  const busy = figures.waiting > 0 ? "has-waiting" : "";
  return el("article", { className: `tile ${busy}`.trim(), "data-tile": name },
    el("h2", {}, bi(label)),
    el("div", { className: "now" },
      figure("waiting", LABELS.waiting, figures.waiting, "big"),
      figure("longest_wait", LABELS.longestWait, seconds(figures.longest_wait_seconds)),
      figure("expected_wait", LABELS.expectedWait, seconds(figures.expected_wait_seconds))),
    agentCounts(figures.agents || {}),
    el("h3", {}, bi(LABELS.today)),
    el("div", { className: "today" },
      figure("service_level", LABELS.serviceLevel, percent(today.service_level),
        slClass(today.service_level, figures.service_level_target)),
      figure("offered", LABELS.offered, today.offered),
      figure("answered", LABELS.answered, today.answered),
      figure("abandoned", LABELS.abandoned, today.abandoned),
      figure("abandon_rate", LABELS.abandonRate, percent(today.abandon_rate)),
      figure("asa", LABELS.asa, seconds(today.asa_seconds)),
      figure("aht", LABELS.aht, seconds(today.aht_seconds)),
      figures.callbacks_due === null || figures.callbacks_due === undefined
        ? null : figure("callbacks_due", LABELS.callbacksDue, figures.callbacks_due)));
}

export function tiles(stats) {
  return [tile("overall", stats.overall), ...stats.queues.map((queue) => tile(queue.queue, queue))];
}

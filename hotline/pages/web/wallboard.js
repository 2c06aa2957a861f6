// The supervisors' wallboard: the figures from GET /api/supervisor/stats, then live from the
// stream (at most one update a second), the agents, the alerts and the last hour in charts.
import { AlertsPanel } from "./alerts.js";
import { agentsTable } from "./agents_table.js";
import { api, followEvents, requireSession, signOut } from "./api.js";
import { lineChart, niceMax } from "./charts.js";
import { byId, el, replace } from "./dom.js";
import { LABELS, bi, clockTime, languageSwitch, percent, text } from "./labels.js";
import { tiles } from "./tiles.js";
import { Trend } from "./trend.js";

const NAMES_REFRESH_MS = 60_000;
const CHARTS_REFRESH_MS = 5_000;

const session = requireSession();
const trend = new Trend();
const names = new Map();
let latest = null;

async function loadNames() {
  const agents = await api("/api/agents");
  names.clear();
  for (const agent of agents) names.set(agent.id, agent.name);
}

function drawCharts() {
  const to = Date.now();
  const from = to - 60 * 60 * 1000;
  const waiting = trend.series("waiting", to);
  replace(byId("waiting-chart"), ...lineChart({
    title: LABELS.waitingChart, points: waiting, from, to, className: "waiting",
    yMax: niceMax(waiting.map(([, value]) => value), 4), yFormat: (value) => String(Math.round(value)),
  }));
  replace(byId("sl-chart"), ...lineChart({
    title: LABELS.slChart, points: trend.series("sl", to), from, to, className: "sl",
    yMax: 1, yFormat: percent, target: latest?.overall.service_level_target ?? null,
  }));
}

function show(stats) {
  latest = stats;
  trend.add(stats);
  replace(byId("tiles"), ...tiles(stats));
  replace(byId("agents"), agentsTable(stats.agents, names));
  byId("updated").textContent = clockTime(stats.generated_at);
  if (stats.agents.some((agent) => !names.has(agent.agent_id))) loadNames().catch(() => {});
  drawCharts();
}

function linkState(state) {
  const label = state === "open" ? LABELS.live : LABELS.reconnecting;
  replace(byId("link-state"), bi(label));
  byId("link-state").className = `link-state ${state}`;
}

async function start() {
  if (!session) return;
  const { agent } = session;
  byId("who").textContent = agent.name;
  replace(byId("tools"), languageSwitch(),
    el("button", { type: "button", className: "small", onclick: signOut }, bi(LABELS.signOut)));
  if (agent.role === "agent") {
    byId("page-message").textContent = text(["此页面仅限主管", "Supervisors only"]);
    byId("page-message").append(" ", el("a", { href: "/agent" }, bi(["坐席工作台", "Agent console"])));
    return;
  }
  const alerts = new AlertsPanel(byId("alerts"));
  await Promise.all([loadNames(), trend.loadHistory(), alerts.load()]);
  show(await api("/api/supervisor/stats"));
  byId("board").hidden = false;
  setInterval(() => loadNames().catch(() => {}), NAMES_REFRESH_MS);
  setInterval(() => {
    if (trend.hasHistory) trend.loadHistory().catch(() => {});
    if (latest) replace(byId("agents"), agentsTable(latest.agents, names));
    drawCharts();
  }, CHARTS_REFRESH_MS);
  followEvents("/api/supervisor/stream", {
    stats: (data) => show(JSON.parse(data)),
    alert: (data) => alerts.update(JSON.parse(data)),
  }, { onState: linkState });
}

start().catch((error) => {
  byId("page-message").textContent = `${text(["无法加载", "Could not load"])}: ${error.message}`;
});

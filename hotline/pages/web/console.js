// The agent console: the agent's state (and changing it), and the call offered to them or on
// their line with the screen pop, from GET /api/agents/me/call every POLL_MS.
import { ApiError, api, requireSession, signOut } from "./api.js";
import { byId, el, replace } from "./dom.js";
import { LABELS, bi, clockTime, languageSwitch, seconds, stateLabel, text } from "./labels.js";
import { CallPanel } from "./screen_pop.js";

const POLL_MS = 1500;
const BREAK_REASONS = [["用餐", "Lunch", "lunch"], ["休息", "Rest", "rest"],
  ["培训", "Training", "training"], ["会议", "Meeting", "meeting"]];

const session = requireSession();
let message = "";

function stateControls(desk) {
  const reason = el("select", { id: "break-reason", "aria-label": "break reason" },
    BREAK_REASONS.map(([zh, en, value]) => el("option", { value, text: `${zh} ${en}` })));
  const choose = (state) => () => setState(state, state === "break" ? reason.value : null);
  return [
    el("div", { className: "current-state" },
      el("span", { className: `state state-${desk.state}`, id: "state-now" }, bi(stateLabel(desk.state))),
      el("span", { className: "since", id: "state-since" }),
      desk.reason ? el("span", { className: "reason", text: desk.reason }) : null),
    el("div", { className: "state-buttons" },
      el("button", { type: "button", id: "go-available", onclick: choose("available") }, bi(["就绪", "Available"])),
      el("span", { className: "break-choice" }, reason,
        el("button", { type: "button", id: "go-break", onclick: choose("break") }, bi(["小休", "Break"]))),
      el("button", { type: "button", id: "go-offline", onclick: choose("offline") }, bi(["离线", "Offline"]))),
    message ? el("p", { className: "message", text: message }) : null,
  ];
}

let lastState = "";
function showState(desk) {
  // Rebuilt only when something shown changes, so an open break-reason list stays open.
  const key = JSON.stringify([desk.state, desk.since, desk.reason, message]);
  if (key !== lastState) {
    lastState = key;
    const chosen = byId("break-reason")?.value;
    replace(byId("my-state"), ...stateControls(desk));
    if (chosen) byId("break-reason").value = chosen;
  }
  byId("state-since").textContent = desk.since
    ? `${clockTime(desk.since)} (${seconds((Date.now() - new Date(desk.since)) / 1000)})` : "";
}

async function setState(state, reason) {
  try {
    await api(`/api/agents/${session.agent.id}/state`, { method: "PUT", body: { state, reason } });
    message = "";
  } catch (error) {
    message = error instanceof ApiError && error.status === 409
      ? text(["通话中无法更改状态", "Not while a call is ringing or on the line"])
      : text(["状态未更改", "State not changed"]) + ` (${error.status || error.message})`;
  }
  await poll();
}

let panel = null;
async function poll() {
  try {
    const desk = await api("/api/agents/me/call");
    showState(desk);
    panel.show(desk.call);
    byId("page-message").textContent = "";
  } catch (error) {
    byId("page-message").textContent = `${text(["连接中断", "Connection lost"])} (${error.status || error.message})`;
  }
}

async function start() {
  if (!session) return;
  byId("who").textContent = session.agent.name;
  replace(byId("tools"), languageSwitch(),
    el("button", { type: "button", className: "small", onclick: signOut }, bi(LABELS.signOut)));
  if (!session.agent.id) return;
  panel = new CallPanel(byId("call"));
  await poll();
  byId("desk").hidden = false;
  setInterval(poll, POLL_MS);
}

start();

// Labels in Chinese and English, and how figures are written. A label is [中文, English];
// `bi()` renders both, and the page's language switch hides one of them with CSS.
import { el } from "./dom.js";

export const LABELS = {
  waiting: ["等待", "Waiting"],
  longestWait: ["最长等待", "Longest wait"],
  expectedWait: ["预计等待", "Expected wait"],
  offered: ["呼入", "Offered"],
  answered: ["接通", "Answered"],
  abandoned: ["放弃", "Abandoned"],
  serviceLevel: ["服务水平", "Service level"],
  asa: ["平均应答", "ASA"],
  aht: ["平均处理", "AHT"],
  abandonRate: ["放弃率", "Abandon rate"],
  callbacksDue: ["待回呼", "Callbacks due"],
  today: ["今日", "Today"],
  overall: ["全部队列", "All queues"],
  agents: ["坐席", "Agents"],
  agent: ["坐席", "Agent"],
  state: ["状态", "State"],
  since: ["开始于", "Since"],
  reason: ["原因", "Reason"],
  handled: ["处理", "Handled"],
  alerts: ["告警", "Alerts"],
  acknowledge: ["确认", "Acknowledge"],
  acknowledged: ["已确认", "Acknowledged"],
  waitingChart: ["最近一小时等待人数", "Waiting, last hour"],
  slChart: ["服务水平趋势（15分钟）", "Service level trend (15 min)"],
  signOut: ["退出", "Sign out"],
  live: ["实时", "Live"],
  reconnecting: ["重新连接中", "Reconnecting"],
};

export const QUEUES = {
  cards: ["银行卡", "Cards"],
  transactions: ["交易争议", "Transactions"],
  accounts: ["账户转账", "Accounts"],
  loans: ["贷款理财", "Loans"],
  complaints: ["投诉", "Complaints"],
  general: ["综合服务", "General"],
};

export const STATES = {
  available: ["空闲", "Available"],
  reserved: ["振铃", "Ringing"],
  busy: ["通话", "On a call"],
  wrap_up: ["话后处理", "Wrap-up"],
  break: ["小休", "Break"],
  missed: ["未接", "Missed"],
  offline: ["离线", "Offline"],
};

export const ALERT_KINDS = {
  service_level: ["服务水平过低", "Service level low"],
  long_wait: ["等待过长", "Long wait"],
  no_agents: ["无坐席", "No agents"],
};

// Both languages of a label; an unknown key is shown as it is, in both places.
export function bi(label, className = "") {
  const [zh, en] = Array.isArray(label) ? label : [String(label), String(label)];
  return el("span", { className: `bi ${className}`.trim() },
    el("span", { className: "zh", text: zh }), el("span", { className: "en", text: en }));
}

export function text(label) {
  return Array.isArray(label) ? `${label[0]} ${label[1]}` : String(label);
}

export const queueLabel = (name) => QUEUES[name] || [name, name];
export const stateLabel = (name) => STATES[name] || [name, name];

export function seconds(value) {
  if (value === null || value === undefined) return "–";
  const total = Math.round(value);
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}:${String(total % 60).padStart(2, "0")}`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}`;
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)}%`;
}

export function clockTime(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString("zh-CN", { hour12: false });
}

// The page's language: both (default), zh or en; remembered in this browser.
export function languageSwitch() {
  const modes = [["双语", "ZH+EN", "both"], ["中文", "中文", "zh"], ["EN", "EN", "en"]];
  const apply = (mode) => {
    document.body.classList.remove("lang-zh", "lang-en");
    if (mode !== "both") document.body.classList.add(`lang-${mode}`);
    localStorage.setItem("hotline.lang", mode);
  };
  apply(localStorage.getItem("hotline.lang") || "both");
  return el("span", { className: "lang-switch" }, modes.map(([zh, en, mode]) =>
    el("button", { type: "button", className: "small", onclick: () => apply(mode) }, bi([zh, en]))));
}

// Open alerts, from GET /api/supervisor/alerts and the stream's `alert` events; a supervisor
// acknowledges them here. While the server has no alerts yet (404) the panel stays hidden.
import { ApiError, api } from "./api.js";
import { el, replace } from "./dom.js";
import { ALERT_KINDS, LABELS, bi, clockTime, queueLabel, text } from "./labels.js";

export class AlertsPanel {
  constructor(container) {
    this.container = container;
    this.open = new Map();
    this.message = "";
  }

  async load() {
    try {
      const alerts = await api("/api/supervisor/alerts?state=open");
      this.open = new Map(alerts.map((alert) => [alert.id, alert]));
      this.container.hidden = false;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      this.container.hidden = true;
      return;
    }
    this.render();
  }

  // An alert as the stream or an acknowledgement sends it: cleared ones leave the panel.
  update(alert) {
    if (alert.cleared_at) this.open.delete(alert.id);
    else this.open.set(alert.id, alert);
    this.container.hidden = false;
    this.render();
  }

  async acknowledge(id) {
    try {
      this.update(await api(`/api/supervisor/alerts/${encodeURIComponent(id)}/acknowledge`, { method: "POST" }));
      this.message = "";
    } catch (error) {
      this.message = error instanceof ApiError && error.notAvailable
        ? text(["暂不支持确认", "Acknowledging is not available yet"])
        : text(["确认失败", "Could not acknowledge"]);
      this.render();
    }
  }

  item(alert) {
    const acknowledged = alert.acknowledged_at
      ? el("span", { className: "acknowledged" }, bi(LABELS.acknowledged), ` ${clockTime(alert.acknowledged_at)}`)
      : el("button", { type: "button", onclick: () => this.acknowledge(alert.id) }, bi(LABELS.acknowledge));
    return el("li", { className: `alert alert-${alert.kind}`, "data-alert": alert.id },
      el("strong", {}, bi(ALERT_KINDS[alert.kind] || [alert.kind, alert.kind])),
      alert.queue ? el("span", { className: "queue" }, bi(queueLabel(alert.queue))) : null,
      el("span", { className: "time", text: clockTime(alert.raised_at) }),
      el("span", { className: "text" }, bi([alert.message_zh || "", alert.message_en || ""])),
      acknowledged);
  }

  render() {
    const alerts = [...this.open.values()].sort((a, b) => String(b.raised_at).localeCompare(String(a.raised_at)));
    replace(this.container,
      el("h2", {}, bi(LABELS.alerts), el("span", { className: "count", text: alerts.length })),
      alerts.length ? el("ul", {}, alerts.map((alert) => this.item(alert)))
        : el("p", { className: "quiet" }, bi(["暂无告警", "No open alerts"])),
      this.message ? el("p", { className: "message", text: this.message }) : null);
  }
}

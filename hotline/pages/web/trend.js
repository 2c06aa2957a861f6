// The last hour of the overall figures for the charts: from GET /api/supervisor/history when
// the server has it, topped up with each figure the stream sends (only those while it has not).
import { ApiError, api } from "./api.js";

const WINDOW_MS = 60 * 60 * 1000;

export class Trend {
  constructor() {
    this.history = []; // [{at, waiting, sl}] from the server, one a minute
    this.samples = []; // the same from the stream, since the page opened
    this.hasHistory = false;
  }

  async loadHistory() {
    try {
      const body = await api("/api/supervisor/history?minutes=60");
      this.history = body.points.map((point) => ({
        at: new Date(point.at).getTime(),
        waiting: point.overall.waiting,
        sl: point.overall.service_level,
      }));
      this.hasHistory = true;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      this.hasHistory = false; // not built yet: the stream's samples alone
    }
  }

  add(stats) {
    const at = Date.now();
    this.samples.push({ at, waiting: stats.overall.waiting, sl: stats.overall.last_15_minutes.service_level });
    this.samples = this.samples.filter((sample) => sample.at >= at - WINDOW_MS);
  }

  // [[time ms, value]] of one figure over the last hour, oldest first.
  series(key, now = Date.now()) {
    const last = this.history.length ? this.history[this.history.length - 1].at : -Infinity;
    return [...this.history, ...this.samples.filter((sample) => sample.at > last)]
      .filter((point) => point.at >= now - WINDOW_MS)
      .map((point) => [point.at, point[key]]);
  }
}

// Line charts drawn by hand in SVG: time on x (the last hour), one figure on y.
import { el, svg } from "./dom.js";
import { bi } from "./labels.js";

const W = 600;
const H = 200;
const M = { left: 48, right: 12, top: 12, bottom: 24 };

// Step path through [time ms, value] points; a null value breaks the line.
function stepPath(points, x, y, until) {
  let path = "";
  let drawing = false;
  points.forEach(([at, value], index) => {
    if (value === null || value === undefined) {
      drawing = false;
      return;
    }
    const next = index + 1 < points.length ? points[index + 1][0] : until;
    path += `${drawing ? "L" : "M"}${x(at).toFixed(1)},${y(value).toFixed(1)}`;
    path += `L${x(next).toFixed(1)},${y(value).toFixed(1)}`;
    drawing = true;
  });
  return path;
}

export function lineChart({ title, points, from, to, yMax, yFormat, className = "", target = null }) {
  const x = (at) => M.left + ((Math.max(at, from) - from) / (to - from)) * (W - M.left - M.right);
  const y = (value) => H - M.bottom - (Math.min(value, yMax) / yMax) * (H - M.top - M.bottom);
  const grid = [0, yMax / 2, yMax].map((value) => [
    svg("line", { className: "grid", x1: M.left, x2: W - M.right, y1: y(value), y2: y(value) }),
    svg("text", { className: "axis", x: M.left - 6, y: y(value) + 4, "text-anchor": "end" }, yFormat(value)),
  ]);
  const minutes = [[from, "−60′"], [(from + to) / 2, "−30′"], [to, "0′"]].map(([at, label], i) =>
    svg("text", { className: "axis", x: x(at), y: H - 6, "text-anchor": ["start", "middle", "end"][i] }, label));
  const goal = target === null ? null
    : svg("line", { className: "target", x1: M.left, x2: W - M.right, y1: y(target), y2: y(target) });
  const line = svg("path", { className: `series ${className}`.trim(), d: stepPath(points, x, y, to) });
  return [
    el("figcaption", {}, bi(title)),
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title[0]} ${title[1]}` },
      grid, minutes, goal, line),
  ];
}

// A y scale that fits the values: at least `floor`, rounded up to a tidy number.
export function niceMax(values, floor) {
  const top = Math.max(floor, ...values.filter((v) => v !== null && v !== undefined));
  const step = top <= 10 ? 2 : top <= 50 ? 10 : top <= 200 ? 50 : 100;
  return Math.ceil(top / step) * step;
}

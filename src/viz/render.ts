import type { VizGraph } from "./vizGraph.js";

/** SVG from DOT, by Graphviz compiled to WebAssembly: nothing to install on the machine. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}

/** JSON that is safe inside an HTML <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * One self-contained page: the SVG inline, pan by dragging, zoom with the wheel, and a panel that
 * shows a clicked node's source line, shape, FLOPs and parameters.
 */
export function toHtml(svg: string, graphs: readonly VizGraph[], prefixes: readonly string[]): string {
  const info: Record<string, { title: string; info: Readonly<Record<string, string>> }> = {};
  graphs.forEach((g, i) => {
    for (const n of g.nodes) info[(prefixes[i] ?? "") + n.id] = { title: n.title, info: n.info };
  });
  const body = svg.replace(/^<\?xml[^>]*>\s*/, "").replace(/<!DOCTYPE[^>]*>\s*/, "");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(graphs[0]?.title ?? "model")} — tfmc graph</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; }
  #view { position: absolute; inset: 0 320px 0 0; overflow: hidden; cursor: grab; background: #fafafa; }
  #view svg { transform-origin: 0 0; }
  #panel { position: absolute; top: 0; right: 0; bottom: 0; width: 300px; padding: 10px; border-left: 1px solid #ccc; overflow: auto; background: #fff; }
  #panel h2 { font-size: 15px; margin: 4px 0 10px; }
  #panel dt { font-weight: 600; font-size: 12px; color: #555; }
  #panel dd { margin: 0 0 8px; font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
  g.node { cursor: pointer; }
  g.node.selected path, g.node.selected polygon { stroke: #d33; stroke-width: 3; }
</style>
</head>
<body>
<div id="view">${body}</div>
<div id="panel"><h2 id="node-title">Click a node</h2><dl id="node-info"></dl></div>
<script type="application/json" id="tfmc-nodes">${scriptJson(info)}</script>
<script>
(() => {
  const nodes = JSON.parse(document.getElementById("tfmc-nodes").textContent);
  const view = document.getElementById("view");
  const svg = view.querySelector("svg");
  let scale = 1, x = 0, y = 0, drag = null;
  const apply = () => { svg.style.transform = "translate(" + x + "px," + y + "px) scale(" + scale + ")"; };
  view.addEventListener("wheel", (e) => {
    e.preventDefault();
    const f = e.deltaY < 0 ? 1.15 : 1 / 1.15;
    const r = view.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    x = px - (px - x) * f; y = py - (py - y) * f; scale *= f; apply();
  }, { passive: false });
  view.addEventListener("mousedown", (e) => { drag = { sx: e.clientX, sy: e.clientY, x, y, moved: false }; });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.sx, dy = e.clientY - drag.sy;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    x = drag.x + dx; y = drag.y + dy; apply();
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
  const show = (g) => {
    const key = g.querySelector("title").textContent;
    const n = nodes[key];
    if (!n) return;
    document.querySelectorAll("g.node.selected").forEach((s) => s.classList.remove("selected"));
    g.classList.add("selected");
    document.getElementById("node-title").textContent = n.title;
    const dl = document.getElementById("node-info");
    dl.textContent = "";
    for (const [k, v] of Object.entries(n.info)) {
      const dt = document.createElement("dt"); dt.textContent = k === "line" ? "source line" : k;
      const dd = document.createElement("dd"); dd.textContent = v;
      dl.append(dt, dd);
    }
  };
  svg.querySelectorAll("g.node").forEach((g) => g.addEventListener("click", () => { if (!drag || !drag.moved) show(g); }));
})();
</script>
</body>
</html>
`;
}

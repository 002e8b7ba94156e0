// Parse Mermaid blocks with the real Mermaid parser, under jsdom (Mermaid expects a DOM).
// Input on stdin: a JSON list of diagram texts. Output on stdout: a JSON list, one entry per
// diagram: {"ok": true, "type": "xychart"} or {"ok": false, "error": "..."}.
// Usage: node tests/js/mermaid_parse.mjs [package]   (package: mermaid, the default, or mermaid12)
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["DOMParser", "Element", "HTMLElement", "SVGElement", "Node", "navigator"]) {
  if (!(name in globalThis)) globalThis[name] = dom.window[name];
}

const pkg = process.argv[2] || "mermaid";
const { default: mermaid } = await import(pkg);
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (err) {
    results.push({ ok: false, error: String(err && err.message ? err.message : err) });
  }
}
const { createRequire } = await import("node:module");
const version = createRequire(import.meta.url)(`${pkg}/package.json`).version;
process.stdout.write(JSON.stringify({ version, results }) + "\n");

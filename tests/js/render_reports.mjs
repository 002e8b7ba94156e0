// Render reports as GitHub shows them and measure what a reader sees: GitHub's Markdown HTML
// (made by the caller with cmark-gfm), github-markdown-css, the pinned Mermaid, in Debian's
// headless Chromium. One browser for every report, theme and width.
// Input on stdin: {"reports": [{"name", "html"}], "widths": [760, 400], "out": "dir"}.
// Output on stdout: a JSON list, one entry per report, theme and width, with the measures.
import { readFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const MERMAID = require.resolve("mermaid/dist/mermaid.min.js");
const mermaidVersion = require("mermaid/package.json").version;
const CSS = {
  light: readFileSync(require.resolve("github-markdown-css/github-markdown-light.css"), "utf8"),
  dark: readFileSync(require.resolve("github-markdown-css/github-markdown-dark.css"), "utf8"),
};
const CANVAS = { light: "#ffffff", dark: "#0d1117" };

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { reports, widths, out } = JSON.parse(input);
mkdirSync(out, { recursive: true });

// GitHub draws a ```mermaid block (cmark-gfm: <pre lang="mermaid">) as the diagram.
const diagrams = (html) =>
  html.replace(
    /<pre lang="mermaid"><code>([\s\S]*?)<\/code><\/pre>/g,
    (_, text) => `<pre class="mermaid">${text}</pre>`,
  );

function page(theme) {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${CSS[theme]}
    body { margin: 0; background: ${CANVAS[theme]}; }
    .markdown-body { box-sizing: border-box; }
    </style></head><body><article class="markdown-body"></article></body></html>`;
}

// Runs in the page: one report at one width, its diagrams drawn as GitHub draws them.
async function show(html, width) {
  const article = document.querySelector("article");
  // A comment body is 32 px narrower than the window at 760 px; a phone's 58 px at 400 px.
  const padding = width <= 400 ? 29 : 16;
  article.style.width = `${width}px`;
  article.style.padding = `0 ${padding}px`;
  article.innerHTML = html;
  for (const pre of document.querySelectorAll("pre.mermaid")) pre.dataset.source = pre.textContent;
  await window.mermaid.run({ querySelector: "pre.mermaid" });
}

// Runs in the page: what a reader sees, measured from the DOM.
function measure() {
  const article = document.querySelector("article");
  const box = article.getBoundingClientRect();
  const content = box.right - parseFloat(getComputedStyle(article).paddingRight);
  const visible = (el) => !el.closest("details:not([open])");
  const overlap = (a, b) =>
    a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const charts = [...document.querySelectorAll("svg[aria-roledescription=xychart]")].map((svg) => {
    const source = svg.closest("[data-source]")?.dataset.source ?? "";
    const lines = [...svg.querySelectorAll("g[class^=line-plot] path")].map((p) => ({
      points: (p.getAttribute("d").match(/[ML]/g) || []).length,
      colour: getComputedStyle(p).stroke,
    }));
    const bars = [...svg.querySelectorAll("g[class^=bar-plot]")].map((g) => ({
      bars: g.querySelectorAll("rect").length,
      colour: getComputedStyle(g.querySelector("rect") || g).fill,
    }));
    const r0 = svg.getBoundingClientRect();
    const clipped = [...svg.querySelectorAll("g.bottom-axis g.label text, g.left-axis g.label text")]
      .filter((t) => {
        const b = t.getBoundingClientRect();
        return b.left < r0.left - 1 || b.right > r0.right + 1;
      })
      .map((t) => t.textContent);
    const overlaps = [];
    for (const axis of svg.querySelectorAll("g.bottom-axis g.label, g.left-axis g.label")) {
      const boxes = [...axis.querySelectorAll("text")].map((t) => [t.textContent, t.getBoundingClientRect()]);
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++)
          if (overlap(boxes[i][1], boxes[j][1])) overlaps.push([boxes[i][0], boxes[j][0]]);
    }
    const r = svg.getBoundingClientRect();
    return { source, lines, bars, overlaps, clipped, visible: visible(svg), width: r.width, height: r.height };
  });
  // Tables above the fold: the second column (the verdict) must be on screen without scrolling.
  const tables = [...document.querySelectorAll("article > table")].filter(visible).map((t) => {
    const second = t.querySelector("tr > :nth-child(2)");
    return {
      header: [...t.querySelectorAll("th")].map((th) => th.textContent.trim()),
      verdictRight: second ? second.getBoundingClientRect().right : null,
    };
  });
  const first = article.querySelector("p");
  return {
    height: box.height,
    headline: first ? first.textContent : "",
    headlineRight: first ? first.getBoundingClientRect().right : 0,
    contentRight: content,
    scrollWidth: document.documentElement.scrollWidth,
    tables,
    charts,
    errors: [...document.querySelectorAll("[id^=d] .error-text, .error-icon")].length,
  };
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    `--user-data-dir=${mkdtempSync(join(tmpdir(), "chromium-"))}`,
  ],
});
const results = [];
try {
  for (const theme of ["light", "dark"]) {
    // One page per theme: Mermaid loads once and draws in GitHub's theme for it.
    const tab = await browser.newPage();
    await tab.setContent(page(theme), { waitUntil: "load" });
    await tab.addScriptTag({ path: MERMAID });
    await tab.evaluate((theme) => {
      window.mermaid.initialize({ startOnLoad: false, theme: theme === "dark" ? "dark" : "default" });
    }, theme);
    for (const report of reports) {
      for (const width of widths) {
        await tab.setViewport({ width, height: 900 });
        await tab.evaluate(show, diagrams(report.html), width);
        const found = await tab.evaluate(measure);
        const shot = join(out, `${report.name}-${theme}-${width}.png`);
        await tab.screenshot({ path: shot, fullPage: true });
        results.push({ name: report.name, theme, width, canvas: CANVAS[theme], shot, ...found });
      }
    }
    await tab.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ mermaid: mermaidVersion, results }) + "\n");

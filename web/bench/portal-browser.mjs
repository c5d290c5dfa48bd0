// The browser half of scripts/bench/portal.py (run by it): in Debian's Chromium, against the real mesh, per
// round and learner: open an uncached module and time its first streamed delta on screen, open it again
// (cached) and time its first rendered paragraph, and time the same GraphQL subscription over a raw
// graphql-transport-ws socket from the same page (connection included, as any client pays it). Also lists
// the scripts the learner's first page loads. Input: a JSON file (argv[2]); output: JSON on stdout.
import { readFileSync } from "node:fs";
import { chromium } from "@playwright/test";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update"],
});

// Installed before the portal runs: note when the module's article first shows text and a paragraph.
function watchArticle() {
  const marks = {};
  window.__marks = marks;
  const look = () => {
    const article = document.querySelector('article[aria-label="Module content"]');
    if (!article) return;
    if (marks.text === undefined && article.textContent.trim()) marks.text = performance.now();
    if (marks.paragraph === undefined && article.querySelector("p")) marks.paragraph = performance.now();
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, characterData: true });
}

/** The subscription itself over a raw socket: milliseconds from opening the socket to the first event. */
function rawSubscription({ token, courseId, moduleId }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const url = new URL("/graphql", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url, "graphql-transport-ws");
    const query = `subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) { markdownDelta content { markdown } } }`;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token}` } }));
    socket.onerror = () => reject(new Error("socket error"));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables: { c: courseId, m: moduleId } } }));
      } else if (message.type === "next") {
        if (message.payload.errors) reject(new Error(JSON.stringify(message.payload.errors)));
        const took = performance.now() - started;
        socket.close();
        resolve(took);
      } else if (message.type === "error") reject(new Error(JSON.stringify(message.payload)));
    };
  });
}

async function learnerPage(session) {
  const context = await browser.newContext();
  await context.addInitScript((value) => localStorage.setItem("lmw.session", value), JSON.stringify(session));
  await context.addInitScript(watchArticle);
  return { context, page: await context.newPage() };
}

async function openModule(page, url, mark) {
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction((m) => window.__marks && window.__marks[m] !== undefined, mark, { timeout: 600_000 });
  const value = await page.evaluate((m) => window.__marks[m], mark);
  await page.waitForSelector('article[aria-label="Module content"][aria-busy="false"]', { timeout: 600_000 });
  return value;
}

const result = { rounds: [], firstPageScripts: [], firstPageStyles: [] };

// The learner's first page, with an empty cache: which scripts and styles it loads.
{
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("response", (response) => {
    const type = response.request().resourceType();
    if (type === "script") result.firstPageScripts.push(new URL(response.url()).pathname);
    if (type === "stylesheet") result.firstPageStyles.push(new URL(response.url()).pathname);
  });
  await page.goto(plan.url, { waitUntil: "networkidle" });
  await page.getByRole("heading", { name: "Course catalog" }).waitFor();
  await context.close();
}

for (const round of plan.rounds) {
  const reader = `${plan.url}/courses/${plan.courseId}/modules/${plan.moduleId}`;
  const { context, page } = await learnerPage(round.portal.session);
  // Warm the HTTP cache with the portal's files (a returning visitor), away from the module.
  await page.goto(`${plan.url}/courses/${plan.courseId}`);
  await page.getByText("Course progress").waitFor({ timeout: 120_000 });
  await page.goto(`${reader}/quiz`, { waitUntil: "load" });
  const uncached = await openModule(page, reader, "text");
  const cached = await openModule(page, reader, "paragraph");
  // The GraphQL subscription alone, from the same page: uncached for another fresh learner, then cached.
  const rawUncached = await page.evaluate(rawSubscription, { token: round.raw.token, courseId: plan.courseId, moduleId: plan.moduleId });
  const rawCached = await page.evaluate(rawSubscription, { token: round.raw.token, courseId: plan.courseId, moduleId: plan.moduleId });
  result.rounds.push({ uncached, cached, rawUncached, rawCached });
  await context.close();
  process.stderr.write(`round ${result.rounds.length}: uncached ${uncached.toFixed(0)} ms (raw ${rawUncached.toFixed(0)}), cached ${cached.toFixed(0)} ms (raw ${rawCached.toFixed(0)})\n`);
}

await browser.close();
process.stdout.write(JSON.stringify(result));

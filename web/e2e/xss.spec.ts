// Course materials are untrusted input: an instructor uploads files full of script, javascript: links and
// event attributes (and names them so), and writes objectives and a title that look like HTML. Everywhere
// the portal shows them (catalog, generated module, its sources opened in the viewer, the tutor, the
// instructor's files and objectives) they must render as inert text: nothing runs, nothing is blocked by the
// CSP because nothing even tries, no injected element or handler reaches the page.
import type { Page } from "@playwright/test";
import { expect, signIn, switchTo, test, type Incidents } from "./fixtures";

const MARKDOWN = `# Measures of center

## The mean <img src=x onerror="window.__xss='md-heading'">
The mean is the sum of the values divided by their number, so one extreme value pulls it strongly. <script>window.__xss='md-script'</script>
Read more [in the appendix](javascript:window.__xss='md-link') or <a href="javascript:window.__xss='md-a'">here</a>.

<div onmouseover="window.__xss='md-div'">The median is the middle value once the data are sorted.</div>

![a chart](javascript:window.__xss='md-img')
`;

const HTML = `<!doctype html><html><head><script>window.__xss='html-head'</script>
<style>body { display: none }</style></head>
<body><h1 onclick="window.__xss='html-h1'">Measures of spread</h1>
<p>The variance measures the average squared distance of the observations from their mean.
<img src=x onerror="window.__xss='html-img'"> <a href="javascript:window.__xss='html-link'">Open</a></p>
<p>The standard deviation is the square root of the variance.</p>
<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>
<svg onload="window.__xss='svg'"><script>window.__xss='svg-script'</script></svg>
<form action="javascript:window.__xss='form'"><button>Send</button></form>
</body></html>`;

const OBJECTIVE = `<b onmouseover="window.__xss='objective'">Explain the mean</b> <script>window.__xss='objective-script'</script>`;
const TITLE = `<img src=x onerror="window.__xss='title'"> Averages, safely ${Date.now().toString(36)}`;

async function expectInert(page: Page, incidents: Incidents) {
  const found = await page.evaluate(() => {
    const handlers = [...document.querySelectorAll("*")].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}[${a.name}]`),
    );
    return {
      xss: (window as unknown as { __xss?: string }).__xss ?? null,
      handlers,
      scripts: [...document.scripts].filter((s) => !s.src.includes("/assets/")).length,
      javascriptLinks: document.querySelectorAll('[href^="javascript" i], [src^="javascript" i], [action^="javascript" i]').length,
      images: document.querySelectorAll("img, svg image, iframe:not(.source__pdf), object, embed").length,
    };
  });
  expect(found).toEqual({ xss: null, handlers: [], scripts: 0, javascriptLinks: 0, images: 0 });
  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
}

test("untrusted materials, names and objectives render inert everywhere", async ({ page, api, incidents }) => {
  const instructor = await api.signUp("INSTRUCTOR", "Eve <script>alert(1)</script>");
  const course = await api.publishedCourse(instructor, TITLE, [
    {
      title: "Center <svg onload=alert(1)>",
      description: `Means and medians <img src=x onerror=alert(1)>`,
      files: [
        { name: `<img src=x onerror=alert(1)>.md`, bytes: Buffer.from(MARKDOWN) },
        { name: `spread"><svg onload=alert(1)>.html`, bytes: Buffer.from(HTML) },
      ],
      objectives: [OBJECTIVE, "Explain how the variance measures spread"],
    },
  ]);
  const learner = await api.signUp("LEARNER", "Victim Learner");
  await signIn(page, learner);

  await test.step("the catalog and the course page", async () => {
    await page.goto("/");
    await expect(page.getByRole("link", { name: TITLE })).toBeVisible();
    await page.getByRole("link", { name: TITLE }).click();
    await page.getByRole("button", { name: "Enroll in this course" }).click();
    await expect(page.getByText("Course progress")).toBeVisible();
    await expectInert(page, incidents);
  });

  await test.step("the generated module and every source it cites", async () => {
    await page.goto(`/courses/${course.id}/modules/${course.moduleIds[0]}`);
    const article = page.getByRole("article", { name: "Module content" });
    await expect(article).toHaveAttribute("aria-busy", "false");
    await expect(article).toContainText("Explain the mean"); // the objective, as text
    await article.hover();
    const sources = page.locator("ol.sources > li");
    const cited = new Set<string>();
    for (let i = 0; i < (await sources.count()); i++) {
      cited.add(await sources.nth(i).locator(".sources__file").innerText());
      await sources.nth(i).getByRole("button").click();
      const viewer = page.getByRole("dialog");
      await expect(viewer.locator(".source__document")).toBeVisible();
      await viewer.locator(".source__document").hover();
      await expectInert(page, incidents);
      await viewer.getByRole("button", { name: "Close" }).click();
    }
    // Both files were opened (their names as the server sanitized them, shown as text).
    expect([...cited].map((name) => name.split(".").pop()).sort()).toEqual(["html", "md"]);
  });

  await test.step("the tutor", async () => {
    await page.goto(`/courses/${course.id}/tutor`);
    await page.getByLabel("Your question").fill("What does the variance measure?");
    await page.getByRole("button", { name: "Ask" }).click();
    await expect(page.locator(".bubble--tutor").last().getByText(/Sources \(\d+\)/)).toBeVisible();
    await expectInert(page, incidents);
  });

  await test.step("the instructor's files and objectives", async () => {
    await switchTo(page, instructor);
    await page.goto(`/teach/courses/${course.id}/materials`);
    await expect(page.getByRole("rowheader", { name: "_img src_x onerror_alert(1)_.md" })).toBeVisible();
    await expectInert(page, incidents);
    await page.goto(`/teach/courses/${course.id}/objectives`);
    await expect(page.getByText(OBJECTIVE)).toBeVisible();
    await expectInert(page, incidents);
    await page.goto(`/teach`);
    await expect(page.getByRole("link", { name: TITLE })).toBeVisible();
    await expectInert(page, incidents);
  });
});

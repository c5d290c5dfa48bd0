// Every route of the portal, at desktop and phone width (390 px): zero axe-core violations at WCAG 2.2 AA,
// and nothing wider than the screen. Pages are checked in the state a person sees them in: loaded, with
// data (an enrolled learner with a submitted quiz and a tutor answer; the seeded course's instructor).
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, signIn, test } from "./fixtures";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const WIDTHS = [
  { name: "desktop", width: 1280, height: 860 },
  { name: "phone", width: 390, height: 844 },
];

interface Route {
  path: string;
  /** What shows once the page has loaded its data. */
  ready: (page: Page) => Promise<void>;
  /** Something to do on the page before it is checked (open a dialog, submit a form). */
  act?: (page: Page) => Promise<void>;
}

/** Open the page once (desktop), bring it to its state, then check it at each width. */
async function check(page: Page, route: Route) {
  await page.setViewportSize({ width: WIDTHS[0]!.width, height: WIDTHS[0]!.height });
  await page.goto(route.path);
  await route.ready(page);
  if (route.act) await route.act(page);
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
    const violations = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    expect(violations, `${route.path} at ${size.name} width`).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${route.path} is wider than the screen at ${size.name} width`).toBeLessThanOrEqual(0);
  }
}

const heading = (name: string | RegExp) => async (page: Page) => {
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
};

test("anonymous routes", async ({ page, seed }) => {
  const routes: Route[] = [
    { path: "/", ready: async (p) => expect(p.getByRole("link", { name: seed.title })).toBeVisible() },
    { path: `/?q=${encodeURIComponent("browsers")}`, ready: async (p) => expect(p.getByText(/match/)).toBeVisible() },
    { path: "/?q=no-such-course-anywhere", ready: async (p) => expect(p.getByText(/No course matches/)).toBeVisible() },
    { path: "/login", ready: heading("Log in") },
    { path: "/signup", ready: heading("Create your account") },
    { path: `/courses/${seed.id}`, ready: heading("Course") },
    { path: "/no/such/page", ready: heading("Page not found") },
  ];
  for (const route of routes) await check(page, route);
});

test("learner routes", async ({ page, api, seed }) => {
  const learner = await api.signUp("LEARNER", "Ally Accessible");
  await api.enroll(learner, seed.id);
  await signIn(page, learner);
  const [moduleId] = seed.moduleIds;
  const reader = `/courses/${seed.id}/modules/${moduleId}`;
  const quiz = `${reader}/quiz`;
  const loaded = async (p: Page) => expect(p.getByRole("article", { name: "Module content" })).toHaveAttribute("aria-busy", "false");
  const routes: Route[] = [
    { path: "/learning", ready: async (p) => expect(p.getByRole("link", { name: seed.title })).toBeVisible() },
    { path: `/courses/${seed.id}`, ready: async (p) => expect(p.getByText("Course progress")).toBeVisible() },
    { path: reader, ready: loaded },
    {
      path: reader,
      ready: loaded,
      act: async (p) => {
        await p.locator("ol.sources").getByRole("button").first().click();
        await expect(p.getByRole("dialog").locator(".source__document, .source__pdf")).toBeVisible();
      },
    },
    {
      path: reader,
      ready: loaded,
      act: async (p) => {
        await p.getByRole("button", { name: "Change how it's written" }).click();
        await expect(p.getByRole("radio", { name: "Detailed" })).toBeVisible();
      },
    },
    { path: quiz, ready: async (p) => expect(p.locator("ol.questions > li").first()).toBeVisible() },
    {
      path: quiz,
      ready: async (p) => expect(p.locator("ol.questions > li, .notice").first()).toBeVisible(),
      act: async (p) => {
        if (await p.getByRole("button", { name: "Retake with new questions" }).count()) {
          await p.getByRole("button", { name: "Retake with new questions" }).click();
        }
        const questions = p.locator("ol.questions > li");
        await expect(questions.first()).toBeVisible();
        for (let i = 0; i < (await questions.count()); i++) await questions.nth(i).getByRole("radio").first().check();
        await p.getByRole("button", { name: "Submit answers" }).click();
        await expect(p.getByText(/^You scored/)).toBeVisible();
      },
    },
    {
      path: `/courses/${seed.id}/tutor`,
      ready: heading("Tutor"),
      act: async (p) => {
        await p.getByLabel("Your question").fill("What is the median?");
        await p.getByRole("button", { name: "Ask" }).click();
        await expect(p.locator(".bubble--tutor").last().getByText(/Sources \(\d+\)/)).toBeVisible();
      },
    },
    {
      path: `/learners/${learner.id}/courses/${seed.id}`,
      ready: async (p) => expect(p.getByRole("img", { name: "Mastery per learning objective" })).toBeVisible(),
      act: async (p) => p.getByText("Show as a table").first().click(),
    },
    { path: "/teach", ready: heading("For instructors") },
  ];
  for (const route of routes) await check(page, route);
});

test("instructor routes", async ({ page, seed }) => {
  await signIn(page, seed.instructor);
  const editor = `/teach/courses/${seed.id}`;
  const routes: Route[] = [
    { path: "/teach", ready: async (p) => expect(p.getByRole("link", { name: seed.title })).toBeVisible() },
    { path: "/teach/new", ready: heading("New course") },
    { path: editor, ready: async (p) => expect(p.getByRole("heading", { name: "Modules" })).toBeVisible() },
    {
      path: editor,
      ready: async (p) => expect(p.getByRole("heading", { name: "Modules" })).toBeVisible(),
      act: async (p) => {
        await p.getByRole("button", { name: `Edit “${seed.moduleTitles[0]}”` }).click();
        await expect(p.getByRole("button", { name: "Save" }).first()).toBeVisible();
      },
    },
    { path: `${editor}/materials`, ready: async (p) => expect(p.getByText(/All \d+ files are indexed/)).toBeVisible() },
    { path: `${editor}/objectives`, ready: async (p) => expect(p.locator("article.objectives").first()).toBeVisible() },
    { path: `${editor}/analytics`, ready: async (p) => expect(p.getByRole("heading", { name: "Summary" })).toBeVisible() },
    { path: `/courses/${seed.id}`, ready: async (p) => expect(p.getByText(/^Preview:/)).toBeVisible() },
    { path: "/learning", ready: heading("For learners") },
  ];
  for (const route of routes) await check(page, route);
});

test("focus is visible and motion stops for those who ask for none", async ({ page, seed }) => {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.goto("/");
  await expect(page.getByRole("link", { name: seed.title })).toBeVisible();
  await page.keyboard.press("Tab"); // the skip link comes first, and shows itself
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.getByLabel("Search courses").focus();
  await page.keyboard.press("Tab");
  const search = page.getByRole("button", { name: "Search" });
  await expect(search).toBeFocused();
  const outline = await search.evaluate((el) => getComputedStyle(el).outlineStyle + " " + getComputedStyle(el).outlineWidth);
  expect(outline).toBe("solid 3px");
  const motion = await page.evaluate(() => {
    const spinner = document.createElement("span");
    spinner.className = "spinner";
    document.body.append(spinner);
    const style = getComputedStyle(spinner);
    return { duration: parseFloat(style.animationDuration), iterations: style.animationIterationCount };
  });
  expect(motion).toEqual({ duration: expect.any(Number), iterations: "1" });
  expect(motion.duration).toBeLessThan(0.01);
});

test("at phone width the menu opens, is accessible, and leads to the pages", async ({ page, api, seed }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, await api.signUp("LEARNER", "Mo Bile"));
  await page.goto("/");
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("link", { name: "My learning" })).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  expect(results.violations.map((v) => v.id)).toEqual([]);
  await page.getByRole("link", { name: "My learning" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "My learning" })).toBeVisible();
  await expect(menu).toHaveAttribute("aria-expanded", "false"); // closed after moving
  await expect(page.getByRole("link", { name: seed.title })).toHaveCount(0);
});

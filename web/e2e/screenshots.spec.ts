// The README's screenshots, taken from the running mesh (`make screenshots`; not part of `make test`):
// the main pages at desktop and phone width, with a few learners' activity so that the pages show data.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { REPO } from "./mesh";
import { expect, signIn, switchTo, test } from "./fixtures";
import type { Account, Api, SeededCourse } from "./api";

const OUT = process.env.SCREENSHOT_DIR ?? join(REPO, "docs", "screenshots");
const WIDTHS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
];

async function takeQuiz(api: Api, learner: Account, course: SeededCourse, pick: (i: number) => number) {
  const vars = { c: course.id, m: course.moduleIds[0] };
  const { quiz } = await api.gql(
    `query($c: ID!, $m: ID!) { quiz(courseId: $c, moduleId: $m, retake: true) { id questions { id } } }`,
    vars,
    learner.token,
  );
  const answers = quiz.questions.map((q: { id: string }, i: number) => ({ questionId: q.id, selectedIndex: pick(i) }));
  await api.gql(
    `mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) { submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) { score } }`,
    { ...vars, q: quiz.id, a: answers },
    learner.token,
  );
}

async function shoot(page: Page, name: string, open: () => Promise<void>) {
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await open();
    await page.screenshot({ path: join(OUT, `${name}-${size.name}.png`) });
  }
}

test("screenshots of the main pages", async ({ page, api, seed }) => {
  mkdirSync(OUT, { recursive: true });
  await page.emulateMedia({ reducedMotion: "reduce" });
  const learner = await api.signUp("LEARNER", "Lin Learner");
  await api.enroll(learner, seed.id);
  for (const [i, name] of ["Ann", "Ben", "Cai"].entries()) {
    const other = await api.signUp("LEARNER", name);
    await api.enroll(other, seed.id);
    await takeQuiz(api, other, seed, (q) => (q + i) % 4);
  }
  await signIn(page, learner);
  const reader = `/courses/${seed.id}/modules/${seed.moduleIds[0]}`;

  await shoot(page, "catalog", async () => {
    await page.goto("/");
    await expect(page.getByRole("link", { name: seed.title })).toBeVisible();
  });
  await shoot(page, "reader", async () => {
    await page.goto(reader);
    await expect(page.getByRole("article", { name: "Module content" })).toHaveAttribute("aria-busy", "false");
  });
  await shoot(page, "source", async () => {
    await page.goto(reader);
    await expect(page.getByRole("article", { name: "Module content" })).toHaveAttribute("aria-busy", "false");
    await page.locator("ol.sources").getByRole("button").first().click();
    await expect(page.getByRole("dialog").locator(".source__target")).toBeVisible();
  });
  await shoot(page, "quiz", async () => {
    await page.goto(`${reader}/quiz`);
    await expect(page.locator("ol.questions > li, .notice").first()).toBeVisible();
    if (await page.getByRole("button", { name: "Retake with new questions" }).count()) {
      await page.getByRole("button", { name: "Retake with new questions" }).click();
    }
    const questions = page.locator("ol.questions > li");
    await expect(questions.first()).toBeVisible();
    for (let i = 0; i < (await questions.count()); i++) await questions.nth(i).getByRole("radio").nth(i % 3).check();
    await page.getByRole("button", { name: "Submit answers" }).click();
    await expect(page.getByText(/^You scored/)).toBeVisible();
    await page.getByRole("heading", { name: /Passed!|Not passed yet/ }).scrollIntoViewIfNeeded();
  });
  await shoot(page, "tutor", async () => {
    await page.goto(`/courses/${seed.id}/tutor`);
    await page.getByLabel("Your question").fill("When should I use the median instead of the mean?");
    await page.getByRole("button", { name: "Ask" }).click();
    await expect(page.locator(".bubble--tutor").last().getByText(/Sources \(\d+\)/)).toBeVisible();
  });
  await shoot(page, "dashboard", async () => {
    await page.goto(`/learners/${learner.id}/courses/${seed.id}`);
    await expect(page.getByRole("img", { name: "Mastery per learning objective" })).toBeVisible();
  });

  await switchTo(page, seed.instructor);
  await shoot(page, "instructor-modules", async () => {
    await page.goto(`/teach/courses/${seed.id}`);
    await expect(page.getByRole("heading", { name: "Modules" })).toBeVisible();
    await page.getByRole("heading", { name: "Modules" }).scrollIntoViewIfNeeded();
  });
  await shoot(page, "instructor-objectives", async () => {
    await page.goto(`/teach/courses/${seed.id}/objectives`);
    await expect(page.locator("article.objectives").first()).toBeVisible();
  });
  await shoot(page, "instructor-analytics", async () => {
    await page.goto(`/teach/courses/${seed.id}/analytics`);
    await expect(page.getByRole("img", { name: "Completion per module" })).toBeVisible();
    await page.getByRole("heading", { name: "Modules", exact: true }).scrollIntoViewIfNeeded();
  });
});

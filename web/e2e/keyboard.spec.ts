// Keyboard only: a learner reads a module (opening a source), takes its quiz and asks the tutor; an instructor
// creates a course, adds a module, uploads a file, drafts and approves objectives and publishes. Every action
// is Tab / Shift+Tab to a control, then Enter, Space, arrow keys or typing; the mouse is never used.
import type { Locator, Page } from "@playwright/test";
import { join } from "node:path";
import { SAMPLE } from "./api";
import { expect, signIn, test } from "./fixtures";

const MAX_STEPS = 80;

/** Move the keyboard focus to `target` with Tab (or Shift+Tab when it lies before the focus). */
async function tabTo(page: Page, target: Locator): Promise<void> {
  await expect(target).toBeVisible();
  const backwards = await target.evaluate(
    (el) => !!document.activeElement && document.activeElement !== document.body && !!(el.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING),
  );
  for (let i = 0; i < MAX_STEPS; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
  }
  throw new Error(`could not reach ${target} with the keyboard in ${MAX_STEPS} steps`);
}

async function press(page: Page, target: Locator, key = "Enter"): Promise<void> {
  await tabTo(page, target);
  await page.keyboard.press(key);
}

async function type(page: Page, field: Locator, text: string): Promise<void> {
  await tabTo(page, field);
  await page.keyboard.type(text);
}

test("a learner reads, takes the quiz and asks the tutor with the keyboard only", async ({ page, api, seed, incidents }) => {
  await signIn(page, await api.signUp("LEARNER", "Kim Keys"));
  await page.goto(`/courses/${seed.id}`);
  await press(page, page.getByRole("button", { name: "Enroll in this course" }));
  await press(page, page.getByRole("link", { name: /^Continue: read/ }));

  const article = page.getByRole("article", { name: "Module content" });
  await expect(article).toHaveAttribute("aria-busy", "false");
  await press(page, article.getByRole("button", { name: /^Source 1:/ }).first());
  const viewer = page.getByRole("dialog");
  await expect(viewer.getByRole("button", { name: "Close" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(viewer).toBeHidden();

  await press(page, page.getByRole("link", { name: "Take the quiz" }));
  const questions = page.locator("ol.questions > li");
  await expect(questions.first()).toBeVisible();
  const count = await questions.count();
  for (let i = 0; i < count; i++) {
    await tabTo(page, questions.nth(i).getByRole("radio").first()); // Tab enters the group at its first option
    await page.keyboard.press("ArrowDown"); // arrows move between the options and choose
    await expect(questions.nth(i).getByRole("radio").nth(1)).toBeChecked();
  }
  await press(page, page.getByRole("button", { name: "Submit answers" }));
  await expect(page.getByRole("heading", { name: /Passed!|Not passed yet/ })).toBeFocused();

  await press(page, page.getByRole("link", { name: "Back to the module" }));
  await expect(article).toHaveAttribute("aria-busy", "false");
  await press(page, page.getByRole("link", { name: "Ask the tutor about this course" }));
  await type(page, page.getByLabel("Your question"), "What is the standard deviation?");
  await page.keyboard.press("Control+Enter");
  await expect(page.locator(".bubble--tutor").last().getByText(/Sources \(\d+\)/)).toBeVisible();
  await press(page, page.locator(".bubble--tutor").last().getByText(/Sources \(\d+\)/));
  await expect(page.locator(".bubble--tutor").last().locator("ol.sources")).toBeVisible();
  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

test("an instructor creates, uploads, approves and publishes with the keyboard only", async ({ page, api, incidents }) => {
  await signIn(page, await api.signUp("INSTRUCTOR", "Kai Keys"));
  await page.goto("/teach");
  await press(page, page.getByRole("link", { name: "New course" }));
  await type(page, page.getByLabel("Title"), "Keyboard statistics");
  await type(page, page.getByLabel("Description"), "Made without a mouse.");
  await press(page, page.getByRole("button", { name: "Create course" }));
  await expect(page.getByRole("heading", { level: 1, name: "Keyboard statistics" })).toBeVisible();

  await type(page, page.getByLabel("Module title"), "Measures of center");
  await type(page, page.getByLabel("What the module covers"), "Mean, median and mode.");
  await press(page, page.getByRole("button", { name: "Add module" }));
  await expect(page.locator("ol.reorder > li")).toHaveCount(1);

  await press(page, page.getByRole("link", { name: "Materials" }));
  const chooser = page.waitForEvent("filechooser");
  await press(page, page.getByLabel("Choose files"), "Space");
  await (await chooser).setFiles(join(SAMPLE, "01-describing-data.md"));
  await expect(page.getByText("All 1 files are indexed")).toBeVisible({ timeout: 240_000 });

  await press(page, page.getByRole("link", { name: "Objectives" }));
  await press(page, page.getByRole("button", { name: "Draft objectives for every module" }));
  const card = page.locator("article.objectives");
  await expect(card.getByText("To review")).toBeVisible({ timeout: 240_000 });
  await press(page, card.getByRole("button", { name: "Approve" }));
  await expect(card.getByText("Approved", { exact: true })).toBeVisible();

  await press(page, page.getByRole("link", { name: "Course and modules" }));
  await press(page, page.getByRole("button", { name: "Publish course" }));
  await expect(page.getByRole("button", { name: "Unpublish course" })).toBeVisible();
  await expect(page.getByText("Published", { exact: true })).toBeVisible();
  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

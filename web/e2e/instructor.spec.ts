// An instructor builds and publishes the sample course (scripts/sample_course) through the portal, against the
// real mesh: modules added and reordered (by drag, then by keyboard), each module's files uploaded for it with
// progress and indexed, a file moved to the whole course and back, publishing refused with the reasons,
// objectives drafted, reviewed with their sources, edited and approved, the course published and previewed,
// analytics exported.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PASSWORD, SAMPLE } from "./api";
import type { Page } from "@playwright/test";
import { expect, signIn, test } from "./fixtures";

const spec = JSON.parse(readFileSync(join(SAMPLE, "course.json"), "utf8")) as {
  title: string;
  description: string;
  modules: { title: string; description: string; files: string[] }[];
};
const FILES = spec.modules.flatMap((m) => m.files);

/** The ids of the jobs the portal follows (kept in localStorage so that a reload picks them up again). */
async function trackedJobs(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Object.keys(localStorage)
      .filter((key) => key.startsWith("lmw.jobs."))
      .flatMap((key) => (JSON.parse(localStorage.getItem(key)!) as { id: string }[]).map((job) => job.id)),
  );
}

test("an instructor builds, reviews and publishes a course from the sample materials", async ({ page, incidents }) => {
  const titles = spec.modules.map((m) => m.title);
  const moduleRows = page.locator("ol.reorder > li");

  await test.step("sign up as an instructor and create the course", async () => {
    await page.goto("/signup");
    await page.getByRole("radio", { name: "an instructor" }).check();
    await page.getByLabel("Your name").fill("Ada Instructor");
    await page.getByLabel("Email").fill(`ada-${Date.now().toString(36)}@e2e.example.org`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByText("You have no courses yet.")).toBeVisible();
    await page.getByRole("link", { name: "New course" }).click();
    await page.getByRole("button", { name: "Create course" }).click();
    await expect(page.getByText("Please fill this in.")).toBeVisible();
    await page.getByLabel("Title").fill(spec.title);
    await page.getByLabel("Description").fill(spec.description);
    await page.getByRole("button", { name: "Create course" }).click();
    await expect(page.getByRole("heading", { level: 1, name: spec.title })).toBeVisible();
    await expect(page.getByText("Draft", { exact: true })).toBeVisible();
  });

  await test.step("add the modules", async () => {
    for (const module of spec.modules) {
      await page.getByLabel("Module title").fill(module.title);
      await page.getByLabel("What the module covers").fill(module.description);
      await page.getByRole("button", { name: "Add module" }).click();
      await expect(moduleRows.filter({ hasText: module.title })).toBeVisible();
    }
    await expect(moduleRows.locator("h3")).toHaveText(titles);
  });

  await test.step("reorder: drag the last module to the top, then move it back with the buttons", async () => {
    await moduleRows.nth(2).dragTo(moduleRows.nth(0));
    const dragged = [titles[2]!, titles[0]!, titles[1]!];
    await expect(moduleRows.locator("h3")).toHaveText(dragged);
    await page.reload();
    await expect(moduleRows.locator("h3")).toHaveText(dragged); // saved
    const down = page.getByRole("button", { name: `Move “${titles[2]}” down` });
    await down.click();
    await expect(page.getByRole("status").filter({ hasText: `moved to position 2 of 3` })).toBeAttached();
    await expect(down).toBeFocused(); // focus stays with the moved module
    await down.click();
    await expect(moduleRows.locator("h3")).toHaveText(titles);
    await page.reload();
    await expect(moduleRows.locator("h3")).toHaveText(titles);
  });

  await test.step("publishing is refused, with the reasons", async () => {
    await page.getByRole("button", { name: "Publish course" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "can't be published yet" });
    await expect(refusal).toContainText("Upload the course materials.");
    await expect(refusal).toContainText(`Draft learning objectives for every module (${titles.join(", ")})`);
  });

  await test.step("upload each module's files for it: upload progress, then indexing progress", async () => {
    await page.getByRole("link", { name: "Materials" }).click();
    const uploads = page.getByRole("list", { name: "Uploads" }).getByRole("listitem");
    for (const module of spec.modules) {
      await page.getByLabel("Upload for").selectOption({ label: module.title });
      await page.getByLabel("Choose files").setInputFiles(module.files.map((f) => join(SAMPLE, f)));
      await expect(uploads.filter({ hasText: "Uploaded" })).toHaveCount(module.files.length);
    }
    await expect.poll(() => trackedJobs(page), { timeout: 240_000 }).toEqual([]); // each followed to its end
    const files = page.getByRole("table").getByRole("row");
    await expect(files).toHaveCount(FILES.length + 1);
    await expect(page.getByRole("table").getByText("Indexed", { exact: true })).toHaveCount(FILES.length, { timeout: 240_000 });
    await expect(page.getByText(`All ${FILES.length} files are indexed`)).toBeVisible();
    for (const module of spec.modules) {
      for (const file of module.files) {
        await expect(page.getByLabel(`Module of ${file}`).locator("option:checked")).toHaveText(module.title);
      }
    }
  });

  await test.step("move a file to the whole course and back, and the choice is kept", async () => {
    const [module] = spec.modules;
    const file = module!.files[0]!;
    const choice = page.getByLabel(`Module of ${file}`);
    for (const destination of ["The whole course", module!.title]) {
      await choice.selectOption({ label: destination });
      await expect(page.getByRole("status").filter({ hasText: `${file} now belongs to ${destination}.` })).toBeAttached();
      await page.reload();
      await expect(choice.locator("option:checked")).toHaveText(destination);
    }
  });

  await test.step("draft the objectives and review them with their sources", async () => {
    await page.getByRole("link", { name: "Objectives" }).click();
    await page.getByLabel("Objectives per module").selectOption("3");
    await page.getByRole("button", { name: "Draft objectives for every module" }).click();
    // The job is followed again after a reload: it is let go only once its progress reports the end.
    await expect.poll(() => trackedJobs(page)).toHaveLength(1);
    await page.reload();
    await expect.poll(() => trackedJobs(page), { timeout: 240_000 }).toEqual([]);
    const cards = page.locator("article.objectives");
    await expect(cards).toHaveCount(3);
    for (const title of titles) {
      await expect(cards.filter({ hasText: title }).getByText("To review")).toBeVisible({ timeout: 240_000 });
    }
    const inference = cards.filter({ hasText: "Statistical Inference" });
    await inference.getByRole("button", { name: /03-inference\.pdf, page \d+/ }).first().click();
    const viewer = page.getByRole("dialog");
    await expect(viewer.locator("iframe.source__pdf")).toHaveAttribute("src", /^blob:.*#page=\d+$/);
    await viewer.getByRole("button", { name: "Close" }).click();
  });

  await test.step("edit one module's objectives, then approve every module", async () => {
    const first = page.locator("article.objectives").filter({ hasText: titles[0]! });
    await first.getByRole("button", { name: "Edit" }).click();
    await first.getByRole("textbox", { name: "Objective 1", exact: true }).fill("Describe a distribution by its center, spread and shape");
    await first.getByRole("button", { name: "Remove objective 3" }).click();
    await first.getByRole("button", { name: "Save objectives" }).click();
    await expect(first.getByText("Describe a distribution by its center, spread and shape")).toBeVisible();
    await expect(first.getByText("Version 2")).toBeVisible();
    for (const card of await page.locator("article.objectives").all()) {
      await card.getByRole("button", { name: "Approve" }).click();
      await expect(card.getByText("Approved", { exact: true })).toBeVisible();
    }
  });

  await test.step("publish, and see the course as learners will", async () => {
    await page.getByRole("link", { name: "Course and modules" }).click();
    await page.getByRole("button", { name: "Publish course" }).click();
    await expect(page.getByRole("button", { name: "Unpublish course" })).toBeVisible();
    await expect(page.getByText("Published", { exact: true })).toBeVisible();
    await page.getByRole("button", { name: "Unpublish course" }).click();
    await expect(page.getByText("Draft: only you can see this course.")).toBeVisible();
    await page.getByRole("button", { name: "Publish course" }).click();
    await expect(page.getByRole("button", { name: "Unpublish course" })).toBeVisible();
    await page.getByRole("link", { name: "View as learner" }).click();
    await expect(page.getByText("Preview: this is how learners see your course.")).toBeVisible();
    await expect(page.getByText("Describe a distribution by its center, spread and shape")).toBeVisible();
    await page.getByRole("link", { name: "Back to editing" }).click();
  });

  await test.step("analytics: an empty course, and its table as CSV", async () => {
    await page.getByRole("link", { name: "Analytics" }).click();
    await expect(page.getByText("No learner has enrolled yet.")).toBeVisible();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the table (CSV)" }).click()]);
    expect(download.suggestedFilename()).toBe("foundations-of-statistics-analytics.csv");
    const csv = readFileSync((await download.path())!, "utf8");
    expect(csv.split("\r\n")[0]).toBe('"Module","Started","Completed","Completion rate","Attempts","Passed attempts","Pass rate","Average score"');
    expect(csv).toContain(`"${titles[1]}","0","0","0.000","0","0","0.000","0.000"`);
  });

  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

test("files that can't be uploaded or indexed say why", async ({ page, api }) => {
  const instructor = await api.signUp("INSTRUCTOR", "Frank Files");
  const { createCourse } = await api.gql(`mutation { createCourse(title: "Broken files", description: "") { id } }`, {}, instructor.token);
  await signIn(page, instructor);
  await page.goto(`/teach/courses/${createCourse.id}/materials`);
  await page.getByLabel("Choose files").setInputFiles([
    { name: "tool.exe", mimeType: "application/octet-stream", buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x01, 0x02, 0xff, 0xfe]) },
    { name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\nthis is not really a pdf\n") },
  ]);
  const uploads = page.getByRole("list", { name: "Uploads" }).getByRole("listitem");
  await expect(uploads.filter({ hasText: "tool.exe" })).toContainText("This kind of file isn't supported.");
  await expect(uploads.filter({ hasText: "broken.pdf" })).toContainText("Uploaded");
  const row = page.getByRole("row").filter({ hasText: "broken.pdf" });
  await expect(row.getByText("Failed", { exact: true })).toBeVisible({ timeout: 240_000 });
  await expect(row.locator(".field__error")).not.toBeEmpty(); // the indexer's reason, as it gave it
  await expect(page.getByText("0 of 1 files indexed; 1 could not be indexed.")).toBeVisible();
  await page.getByRole("button", { name: "Delete broken.pdf" }).click();
  await page.getByRole("button", { name: "Delete file" }).click();
  await expect(page.getByText("No materials yet.")).toBeVisible();
});

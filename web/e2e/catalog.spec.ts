// The catalog pages through more courses than fit on one page, and search finds a course on any page.
import { expect, signIn, test } from "./fixtures";

const PAGE = 12;

test("the catalog pages, and search looks through every page", async ({ page, api }) => {
  const instructor = await api.signUp("INSTRUCTOR", "Paula Pages");
  const word = `zebra${Date.now().toString(36)}`;
  const titles = Array.from({ length: PAGE + 1 }, (_, i) => `Paging course ${i + 1}${i === PAGE ? ` ${word}` : ""}`);
  const material = (n: number) => ({
    name: `notes-${n}.md`,
    bytes: Buffer.from(`# Notes ${n}\n\nThe mean of a list of numbers is their sum divided by how many there are (${n}).\n`),
  });
  await Promise.all(
    titles.map((title, n) =>
      api.publishedCourse(instructor, title, [{ title: "Only module", files: [material(n)], objectives: ["Explain the mean"] }]),
    ),
  );
  await signIn(page, await api.signUp("LEARNER", "Peter Pages"));
  await page.goto("/");
  const cards = page.getByRole("list", { name: "Courses" }).getByRole("listitem");
  await expect(cards).toHaveCount(PAGE);
  await expect(page.getByRole("button", { name: "Previous" })).toBeDisabled();
  const first = await cards.first().getByRole("heading").innerText();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("Page 2")).toBeVisible();
  await expect(cards.first().getByRole("heading")).not.toHaveText(first);
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(page.getByText("Page 1")).toBeVisible();
  await expect(cards.first().getByRole("heading")).toHaveText(first);

  await page.getByLabel("Search courses").fill(word);
  await page.keyboard.press("Enter");
  await expect(page.getByText(`1 course matches “${word}”.`)).toBeVisible();
  await expect(page.getByRole("link", { name: titles[PAGE]! })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`\\?q=${word}$`));
  await page.getByRole("button", { name: "Clear search" }).click();
  await expect(cards).toHaveCount(PAGE);
});

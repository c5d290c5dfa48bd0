// What a browser user can reach that is not theirs, and what happens when a session ends: the real mesh
// refuses, and the portal says so in a sentence (never raw JSON) without showing the other person's data.
import { statisticsModules } from "./api";
import { expect, signIn, test } from "./fixtures";

test("a learner who opens another learner's dashboard URL is told it is not theirs", async ({ page, api, seed, incidents }) => {
  const alice = await api.signUp("LEARNER", "Alice Owner");
  const bob = await api.signUp("LEARNER", "Bob Other");
  await api.enroll(alice, seed.id);
  await api.enroll(bob, seed.id);
  await signIn(page, bob);
  await page.goto(`/learners/${alice.id}/courses/${seed.id}`);
  await expect(page.getByRole("heading", { name: "Dashboard not available" })).toBeVisible();
  await expect(page.getByRole("alert")).toHaveText(/This belongs to another account, so you can't open it\./);
  await expect(page.getByText(seed.title)).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText("{");
  // Their own dashboard works.
  await page.goto(`/learners/${bob.id}/courses/${seed.id}`);
  await expect(page.getByRole("heading", { name: `Dashboard: ${seed.title}` })).toBeVisible();
  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

test("an instructor who opens another instructor's course URL sees neither the course nor its data", async ({ page, api, seed, incidents }) => {
  const other = await api.signUp("INSTRUCTOR", "Mallory Other");
  await signIn(page, other);
  for (const tab of ["", "/materials", "/objectives", "/analytics"]) {
    await page.goto(`/teach/courses/${seed.id}${tab}`);
    await expect(page.getByRole("heading", { name: "Course not available" })).toBeVisible();
    await expect(page.getByRole("alert")).toHaveText(/This belongs to another account, so you can't open it\./);
    await expect(page.getByText(seed.title)).toHaveCount(0);
  }
  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

test("a learner who opens the URL of a draft course is told it does not exist", async ({ page, api, seed }) => {
  const draft = await api.publishedCourse(seed.instructor, "An unpublished draft", statisticsModules().slice(1), false);
  await signIn(page, await api.signUp("LEARNER", "Curious Learner"));
  await page.goto(`/courses/${draft.id}`);
  await expect(page.getByRole("alert")).toHaveText(/This course doesn't exist, or it isn't available to you\./);
  await expect(page.getByText("An unpublished draft")).toHaveCount(0);
});

test("an expired session returns to log-in, then back to the page", async ({ page, api, seed }) => {
  const learner = await api.signUp("LEARNER", "Sam Sleepy");
  await api.enroll(learner, seed.id);
  // A token the services no longer accept (its signature broken, as a revoked or expired one would be).
  await signIn(page, { ...learner, token: `${learner.token.slice(0, -4)}AAAA` });
  const target = `/learners/${learner.id}/courses/${seed.id}`;
  await page.goto(target);
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(page.getByText("Your session has ended. Log in again to continue where you were.")).toBeVisible();
  expect(new URL(page.url()).searchParams.get("next")).toBe(target);
  await page.getByLabel("Email").fill(learner.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText(/That email and password don't match an account\./);
  await page.getByLabel("Password").fill((await import("./api")).PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(new RegExp(`${target}$`));
  await expect(page.getByRole("heading", { name: `Dashboard: ${seed.title}` })).toBeVisible();
});

test("a session that runs out while the page is open goes to log-in, then back", async ({ page, api, seed }) => {
  const learner = await api.signUp("LEARNER", "Tina Timer");
  await api.enroll(learner, seed.id);
  await signIn(page, { ...learner, expiresAt: new Date(Date.now() + 4_000).toISOString() });
  await page.goto(`/courses/${seed.id}`);
  await expect(page.getByText("Course progress")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  expect(new URL(page.url()).searchParams.get("next")).toBe(`/courses/${seed.id}`);
});

test("offline: the portal says so, and failed requests explain why", async ({ page, api, seed, context }) => {
  const learner = await api.signUp("LEARNER", "Olive Offline");
  await signIn(page, learner);
  await page.goto(`/courses/${seed.id}`);
  await expect(page.getByRole("button", { name: "Enroll in this course" })).toBeVisible();
  await context.setOffline(true);
  await expect(page.getByRole("status").filter({ hasText: "You are offline." })).toBeVisible();
  await page.getByRole("button", { name: "Enroll in this course" }).click();
  await expect(page.getByText("You are offline. Reconnect, then try again.")).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByRole("status").filter({ hasText: "You are offline." })).toHaveCount(0);
  await page.getByRole("button", { name: "Enroll in this course" }).click();
  await expect(page.getByText("Course progress")).toBeVisible();
});

// A learner's whole journey through the portal, against the real mesh: sign up, find the course, enroll,
// read a module as it streams (sources opened at their section or page, preferences changed and the module
// rewritten), take the quiz twice, ask the tutor (a streamed, sourced answer; a hint for an open quiz
// question), and see the dashboard change.
import { expect, signIn, test } from "./fixtures";
import { PASSWORD } from "./api";

test("a learner enrolls, reads, takes the quiz twice, asks the tutor and sees the dashboard change", async ({
  page,
  seed,
  incidents,
}) => {
  const email = `lin-${Date.now().toString(36)}@e2e.example.org`;

  await test.step("sign up", async () => {
    await page.goto("/signup");
    await page.getByLabel("Your name").fill("Lin Learner");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "My learning" })).toBeVisible();
    await expect(page.getByText("You haven't enrolled in a course yet.")).toBeVisible();
  });

  await test.step("find the course in the catalog and enroll", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Catalog" }).click();
    await page.getByLabel("Search courses").fill(seed.title.split(" ").pop()!);
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByText(/1 course matches/)).toBeVisible();
    await page.getByRole("link", { name: seed.title }).click();
    await page.getByRole("button", { name: "Enroll in this course" }).click();
    await expect(page.getByText("0 of 2 modules completed")).toBeVisible();
    await expect(page.getByText("Locked")).toBeVisible();
  });

  const dashboardUrl = await test.step("the dashboard before any quiz", async () => {
    await page.getByRole("link", { name: "Your dashboard" }).click();
    await expect(page.getByRole("heading", { name: `Dashboard: ${seed.title}` })).toBeVisible();
    await expect(page.getByText("No quiz taken yet.")).toBeVisible();
    await expect(page.getByText("Take a quiz to see your mastery of each objective.")).toBeVisible();
    const url = page.url();
    await page.getByRole("link", { name: "Continue: read “Describing Data”" }).click();
    return url;
  });

  await test.step("read the module as it streams, with its sources", async () => {
    await expect(page.getByRole("heading", { level: 1, name: "Describing Data" })).toBeVisible();
    const article = page.getByRole("article", { name: "Module content" });
    await expect(article).toHaveAttribute("aria-busy", "false");
    await expect(article.getByRole("heading", { name: "Summary" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Sources" })).toBeVisible();

    await article.getByRole("button", { name: /^Source 1: 01-describing-data\.md/ }).first().click();
    const viewer = page.getByRole("dialog");
    await expect(viewer.getByRole("heading", { name: "Source 1: 01-describing-data.md" })).toBeVisible();
    await expect(viewer.getByText("Cited passage")).toBeVisible();
    await expect(viewer.locator(".source__target")).toBeVisible(); // the cited section, scrolled to
    await viewer.getByRole("button", { name: "Close" }).click();
    await expect(viewer).toBeHidden();

    const pdfChip = page.getByRole("button", { name: /03-inference\.pdf, page \d+/ }).first();
    if (await pdfChip.count()) {
      await pdfChip.click();
      await expect(viewer.locator("iframe.source__pdf")).toHaveAttribute("src", /^blob:.*#page=\d+$/);
      await page.keyboard.press("Escape");
    }
  });

  await test.step("change the preferences: the module is written again for them", async () => {
    await expect(page.getByText("Moderate detail · Conceptual · Balanced language")).toBeVisible();
    await page.getByRole("button", { name: "Change how it's written" }).click();
    await page.getByRole("radio", { name: "Detailed" }).check();
    await page.getByRole("radio", { name: "With examples" }).check();
    await page.getByRole("radio", { name: "Simple language" }).check();
    await page.getByRole("button", { name: "Apply and rewrite" }).click();
    await expect(page.getByText("Detailed · With examples · Simple language")).toBeVisible();
    await expect(page.getByRole("article", { name: "Module content" })).toHaveAttribute("aria-busy", "false");
  });

  const scores: string[] = [];
  await test.step("take the quiz, then retake it", async () => {
    const quizLoaded = page.waitForResponse((r) => r.url().includes("/graphql") && /operationName=Quiz(&|$)/.test(r.url()));
    await page.getByRole("link", { name: "Take the quiz" }).click();
    const quizBody = await (await quizLoaded).text(); // what reaches the browser before submission
    expect(quizBody).toContain('"questions"');
    expect(quizBody).not.toMatch(/correct|explanation/i);
    await expect(page.getByRole("heading", { name: "Quiz: Describing Data" })).toBeVisible();
    await expect(page.getByText("No attempts yet.")).toBeVisible();
    for (const attempt of [1, 2]) {
      const questions = page.locator("ol.questions > li");
      await expect(questions.first()).toBeVisible();
      await page.getByRole("button", { name: "Submit answers" }).click(); // nothing chosen: told what is missing
      await expect(page.getByRole("alert").filter({ hasText: "still need an answer" })).toBeVisible();
      const count = await questions.count();
      for (let i = 0; i < count; i++) await questions.nth(i).getByRole("radio").first().check();
      await page.getByRole("button", { name: "Submit answers" }).click();
      const verdict = page.getByText(/^You scored \d+%; the pass mark is 60%\.$/);
      await expect(verdict).toBeVisible();
      scores.push((await verdict.textContent())!);
      await expect(page.locator(".question--right, .question--wrong")).toHaveCount(count);
      await expect(page.getByRole("table").getByRole("row")).toHaveCount(attempt + 1); // header + attempts
      if (attempt === 1) await page.getByRole("button", { name: "Retake with new questions" }).click();
    }
  });

  await test.step("ask the tutor: a streamed answer with its sources, kept in the history", async () => {
    await page.goto(`/courses/${seed.id}/tutor`);
    await expect(page.getByText("Answers are generated from the course materials")).toBeVisible();
    await expect(page.getByText("the tutor gives hints, not answers")).toBeVisible();
    await page.getByLabel("Your question").fill("What is the difference between the mean and the median?");
    await page.getByRole("button", { name: "Ask" }).click();
    const answer = page.locator(".bubble--tutor").last();
    await expect(answer.getByText(/Sources \(\d+\)/)).toBeVisible();
    await expect(answer).toContainText("median");
    await page.reload();
    await expect(page.locator(".bubble--learner").filter({ hasText: "mean and the median" })).toBeVisible();
    await expect(page.locator(".bubble--tutor")).toHaveCount(1);
  });

  await test.step("an open quiz question gets a hint, not the answer", async () => {
    await page.goto(`/courses/${seed.id}/modules/${seed.moduleIds[0]}/quiz`);
    await page.getByRole("button", { name: "Retake with new questions" }).click();
    const question = (await page.locator("ol.questions > li legend").first().innerText()).replace(/^Question 1:\s*/, "");
    await page.goto(`/courses/${seed.id}/tutor`);
    await page.getByLabel("Your question").fill(question);
    await page.getByRole("button", { name: "Ask" }).click();
    await expect(page.locator(".bubble--tutor").last()).toContainText("here is a hint rather than the answer");
  });

  await test.step("the dashboard shows the attempts and the mastery map", async () => {
    await page.goto(dashboardUrl);
    const recent = page.locator("ul.results > li");
    await expect(recent).toHaveCount(2);
    await expect(page.getByRole("img", { name: "Mastery per learning objective" })).toBeVisible();
    await page.getByText("Show as a table").first().click();
    await expect(page.getByRole("rowheader", { name: "Choose between the mean and the median as a measure of center" })).toBeVisible();
  });

  expect(incidents).toEqual({ violations: [], errors: [], dialogs: [] });
});

test("a tutor answer can be stopped while it streams", async ({ page, api, seed }) => {
  const learner = await api.signUp("LEARNER", "Stella Stop");
  await api.enroll(learner, seed.id);
  await signIn(page, learner);
  // A slow connection, not a stand-in: every message is the real server's, but after the answer's first
  // event the rest of that answer is held back, so it is still streaming when Stop is pressed.
  let answerId: string | null = null;
  let cancelled = false;
  await page.routeWebSocket(/\/graphql$/, (socket) => {
    const server = socket.connectToServer();
    socket.onMessage((message) => {
      const parsed = JSON.parse(String(message));
      if (parsed.type === "subscribe" && String(parsed.payload?.query).includes("tutorAnswer")) answerId = parsed.id;
      if (parsed.type === "complete" && parsed.id === answerId) cancelled = true;
      server.send(message);
    });
    let shown = 0;
    server.onMessage((message) => {
      const parsed = JSON.parse(String(message));
      if (answerId !== null && parsed.id === answerId && shown++ > 0) return;
      socket.send(message);
    });
  });
  await page.goto(`/courses/${seed.id}/tutor`);
  await page.getByLabel("Your question").fill("What is the difference between the mean and the median?");
  await page.getByRole("button", { name: "Ask" }).click();
  await expect(page.locator(".bubble--tutor").last()).not.toBeEmpty();
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByText("Stopped before the answer was complete.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Stop" })).toHaveCount(0);
  await expect.poll(() => cancelled).toBe(true); // the server was told: the BFF cancels the generation
  await expect(page.getByRole("button", { name: "Ask" })).toBeDisabled(); // no question typed yet
});

// The API explorer at /graphql works with no network beyond the BFF: GraphiQL's assets come with the portal.
import { expect, test } from "./fixtures";

test("GraphiQL opens and runs a query with nothing but the BFF reachable", async ({ page, baseURL, incidents }) => {
  const origin = new URL(baseURL!).origin;
  const elsewhere: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  await page.goto("/graphql");
  await expect(page.locator(".graphiql-container")).toBeVisible();
  await page.getByRole("button", { name: /Execute query/ }).click();
  const result = page.locator(".result-window");
  await expect(result).toContainText('"catalog"');
  await expect(result).toContainText('"edges"');
  expect(elsewhere).toEqual([]);
  expect(incidents.violations).toEqual([]);
  expect(incidents.errors).toEqual([]);
});

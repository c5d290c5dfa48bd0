// What every browser test gets: the portal's URL, the seeded course, accounts made through the API, a way to
// be signed in without going through the form, and a record of anything that must never happen in the
// portal (a CSP violation, an uncaught error, a dialog opened by injected script).
import { readFileSync } from "node:fs";
import { test as base, expect, type Page } from "@playwright/test";
import { Api, type Account, type SeededCourse } from "./api";

export { expect };

export interface Incidents {
  violations: string[];
  errors: string[];
  dialogs: string[];
}

export const test = base.extend<{ api: Api; seed: SeededCourse; incidents: Incidents }>({
  baseURL: async ({}, use) => use(process.env.PORTAL_URL),
  api: async ({}, use) => use(new Api(process.env.PORTAL_URL!)),
  seed: async ({}, use) => use(JSON.parse(readFileSync(process.env.PORTAL_SEED!, "utf8")) as SeededCourse),
  incidents: async ({ page }, use) => {
    const incidents: Incidents = { violations: [], errors: [], dialogs: [] };
    await page.exposeFunction("__reportViolation", (text: string) => incidents.violations.push(text));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        (window as unknown as { __reportViolation(t: string): void }).__reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page.on("pageerror", (error) => incidents.errors.push(error.message));
    page.on("dialog", (dialog) => {
      incidents.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await use(incidents);
  },
});

/** The session the log-in form stores for `account`. */
export function sessionOf(account: Account): string {
  return JSON.stringify({
    token: account.token,
    role: account.role,
    userId: account.id,
    name: account.name,
    email: account.email,
    expiresAt: account.expiresAt,
  });
}

/** Be signed in as `account` from the first page on (later sign-outs and sign-ins in the page stand). */
export async function signIn(page: Page, account: Account): Promise<void> {
  await page.addInitScript((value) => {
    if (!sessionStorage.getItem("e2e-signed-in")) {
      localStorage.setItem("lmw.session", value);
      sessionStorage.setItem("e2e-signed-in", "1");
    }
  }, sessionOf(account));
}

/** Switch the open page to another account, as signing out and in again would. */
export async function switchTo(page: Page, account: Account): Promise<void> {
  await page.evaluate((value) => localStorage.setItem("lmw.session", value), sessionOf(account));
}

// API errors as sentences a person understands: `extensions.reason` first (a stable code from the services),
// then `extensions.code`, never raw JSON. Network failures and offline are said as such.
import { CombinedError } from "urql";
import { t, type MessageKey } from "../i18n";
import { en } from "../i18n/en";

export interface Problem {
  code: string;
  reason: string;
  message: string;
  requestId?: string;
  metadata?: Record<string, string>;
}

/** An error of a request made outside urql (uploads, course files), in the same shape. */
export class ApiFailure extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems[0]?.message ?? "request failed");
  }
}

const NETWORK: Problem = { code: "NETWORK", reason: "NETWORK", message: "" };

function fromExtensions(message: string, extensions: unknown): Problem {
  const ext = (extensions ?? {}) as Record<string, unknown>;
  const code = typeof ext.code === "string" ? ext.code : "INTERNAL";
  return {
    code,
    reason: typeof ext.reason === "string" ? ext.reason : code,
    message,
    requestId: typeof ext.requestId === "string" ? ext.requestId : undefined,
    metadata: ext.metadata && typeof ext.metadata === "object" ? (ext.metadata as Record<string, string>) : undefined,
  };
}

/** The problems of a GraphQL response body ({"errors": [...]}); a body without errors gives none. */
export function problemsOfBody(body: unknown): Problem[] {
  const errors = (body as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e: { message?: unknown; extensions?: unknown }) =>
    fromExtensions(typeof e?.message === "string" ? e.message : "", e?.extensions),
  );
}

export function problemsOf(error: unknown): Problem[] {
  if (error instanceof ApiFailure) return error.problems;
  if (error instanceof CombinedError) {
    if (error.graphQLErrors.length) return error.graphQLErrors.map((e) => fromExtensions(e.message, e.extensions));
    return [NETWORK];
  }
  return error ? [NETWORK] : [];
}

export function hasReason(error: unknown, ...reasons: string[]): boolean {
  return problemsOf(error).some((p) => reasons.includes(p.reason));
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return problemsOf(error).some((p) => codes.includes(p.code));
}

/** The session's token was refused (a wrong password at log-in is not this). */
export function isSessionRefused(error: unknown): boolean {
  return problemsOf(error).some((p) => p.code === "UNAUTHENTICATED" && p.reason !== "BAD_CREDENTIALS");
}

function capitalized(message: string): string {
  const text = message.trim();
  if (!text) return text;
  return text[0]!.toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

/** One sentence for one problem. */
export function sentence(problem: Problem): string {
  if (problem.code === "NETWORK") {
    return t(typeof navigator !== "undefined" && !navigator.onLine ? "error.offline" : "error.network");
  }
  const byReason = `error.reason.${problem.reason}`;
  if (byReason in en) return t(byReason as MessageKey);
  // Validation messages from the services name the field and the rule: clear enough once capitalized.
  if (problem.code === "BAD_USER_INPUT" && problem.message) return capitalized(problem.message);
  if (problem.code === "INTERNAL") {
    return problem.requestId ? t("error.internalWithId", { id: problem.requestId }) : t("error.internal");
  }
  const byCode = `error.code.${problem.code}`;
  return byCode in en ? t(byCode as MessageKey) : t("error.unknown");
}

/** The sentence for an error (its first problem; the rest are usually the same cause). */
export function describe(error: unknown): string {
  const [first] = problemsOf(error);
  return first ? sentence(first) : "";
}

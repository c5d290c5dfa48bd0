// One message catalog (English shipped): every string the portal shows comes from `messages` through `t`.
// `npm run check-strings` fails on text written into the components themselves.
import { en } from "./en";

export type MessageKey = keyof typeof en;
export type Vars = Record<string, string | number>;

export const locale = "en";
const messages: Record<MessageKey, string> = en;
const pluralRules = new Intl.PluralRules(locale);
const numbers = new Intl.NumberFormat(locale);
const percents = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
const dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

/** The message `key`, with `{name}` placeholders replaced from `vars` (numbers formatted for the locale). */
export function t(key: MessageKey, vars?: Vars): string {
  const template = messages[key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? numbers.format(value) : value;
  });
}

/** `one` or `other` by the count's plural category; the count is available as `{count}`. */
export function tn(count: number, one: MessageKey, other: MessageKey, vars?: Vars): string {
  return t(pluralRules.select(count) === "one" ? one : other, { count, ...vars });
}

/** A 0..1 fraction as a percentage ("80%"). */
export function percent(fraction: number): string {
  return percents.format(Number.isFinite(fraction) ? fraction : 0);
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dates.format(date);
}

/** Bytes as "12 KB" / "3.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return t("units.bytes", { count: bytes });
  if (bytes < 1024 * 1024) return t("units.kilobytes", { count: Math.round(bytes / 1024) });
  return t("units.megabytes", { value: (bytes / (1024 * 1024)).toFixed(1) });
}

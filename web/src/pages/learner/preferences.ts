import type { DetailLevel, ExplanationStyle, LanguageLevel, PreferenceFieldsFragment } from "../../gql/graphql";
import { t, type MessageKey } from "../../i18n";

export const DETAIL: DetailLevel[] = ["BRIEF", "MODERATE", "DETAILED"];
export const STYLE: ExplanationStyle[] = ["EXAMPLES", "CONCEPTUAL", "PRACTICAL", "VISUAL"];
export const LANGUAGE: LanguageLevel[] = ["SIMPLE", "BALANCED", "TECHNICAL"];

export const label = (dimension: "detail" | "style" | "language", value: string) =>
  t(`prefs.${dimension}.${value}` as MessageKey);

export function summary(p: PreferenceFieldsFragment): string {
  return t("prefs.summary", {
    detail: label("detail", p.detailLevel),
    style: label("style", p.explanationStyle),
    language: label("language", p.language),
  });
}

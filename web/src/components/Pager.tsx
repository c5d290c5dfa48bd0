import { useState } from "react";
import { t } from "../i18n";

/** Paging through a Relay connection: the cursor of every page seen, so Previous goes back exactly. */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    after: cursors[cursors.length - 1] ?? null,
    page: cursors.length,
    back: () => setCursors((seen) => (seen.length > 1 ? seen.slice(0, -1) : seen)),
    forward: (endCursor: string | null | undefined) => setCursors((seen) => [...seen, endCursor ?? null]),
  };
}

export function Pager({
  label,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
}: {
  label: string;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
}) {
  return (
    <nav className="pager" aria-label={t("pager.label")}>
      <button type="button" className="button button--secondary" disabled={!hasPrevious} onClick={onPrevious}>
        {t("pager.previous")}
      </button>
      <span>{label}</span>
      <button type="button" className="button button--secondary" disabled={!hasNext} onClick={onNext}>
        {t("pager.next")}
      </button>
    </nav>
  );
}

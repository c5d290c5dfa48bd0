// Citations: numbered chips in the text and a list of sources; a chip opens the cited file in a dialog, at
// the cited page (PDF) or scrolled to the cited section (Markdown, HTML), with the cited passage quoted.
import { Suspense, lazy, useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import type { CitationFieldsFragment } from "../gql/graphql";
import { t } from "../i18n";
import { Loading } from "./Status";

const SourceBody = lazy(() => import("./SourceBody"));

export type Citation = CitationFieldsFragment;

export function where(citation: Citation): string {
  if (citation.page) return t("source.page", { page: citation.page });
  if (citation.slide) return t("source.slide", { slide: citation.slide });
  return citation.heading;
}

export function CitationChip({ n, citation, onOpen }: { n: number; citation: Citation; onOpen(c: Citation, n: number): void }) {
  return (
    <button
      type="button"
      className="chip"
      aria-label={t("source.chipLabel", { n, file: citation.fileName, where: where(citation) })}
      onClick={() => onOpen(citation, n)}
    >
      {n}
    </button>
  );
}

export function SourceList({ citations, onOpen }: { citations: Citation[]; onOpen(c: Citation, n: number): void }) {
  if (!citations.length) return null;
  return (
    <ol className="sources">
      {citations.map((citation, index) => (
        <li key={`${citation.chunkId}-${index}`} className="sources__item">
          <CitationChip n={index + 1} citation={citation} onOpen={onOpen} />
          <span className="sources__file">{citation.fileName}</span>
          {where(citation) ? <span className="sources__where"> · {where(citation)}</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** The viewer dialog and a function to open it; one per page. */
export function useSourceViewer(courseId: string): { open(citation: Citation, n: number): void; viewer: ReactNode } {
  const [current, setCurrent] = useState<{ citation: Citation; n: number } | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const open = useCallback((citation: Citation, n: number) => setCurrent({ citation, n }), []);
  useEffect(() => {
    if (current && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [current]);
  const viewer = (
    <dialog
      ref={dialog}
      className="dialog dialog--wide"
      aria-labelledby="source-title"
      onClose={() => setCurrent(null)}
    >
      {current ? (
        <div className="dialog__body">
          <div className="dialog__header">
            <h2 id="source-title">{t("source.title", { n: current.n, file: current.citation.fileName })}</h2>
            <button type="button" className="button button--ghost" onClick={() => dialog.current?.close()} autoFocus>
              {t("action.close")}
            </button>
          </div>
          {where(current.citation) ? <p className="muted">{where(current.citation)}</p> : null}
          {current.citation.snippet ? (
            <blockquote className="source__quote">
              <p className="source__quote-label">{t("source.cited")}</p>
              {current.citation.snippet}
            </blockquote>
          ) : null}
          <Suspense fallback={<Loading label={t("source.loading")} />}>
            <SourceBody courseId={courseId} citation={current.citation} />
          </Suspense>
        </div>
      ) : null}
    </dialog>
  );
  return { open, viewer };
}

import { useEffect, useRef, type ReactNode } from "react";
import { t } from "../i18n";

// The first page of a visit starts where browsers start (the skip link comes first); after a move within the
// portal, focus goes to the new page's heading, so screen readers and keyboards start there.
let firstPage = true;

/** A page: its title in the tab and as the one h1, focused when the portal moves to it. */
export function Page({ title, lead, actions, children, wide }: {
  title: string;
  lead?: ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
  wide?: boolean;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = t("app.documentTitle", { page: title });
  }, [title]);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div className={wide ? "page page--wide" : "page"}>
      <header className="page__header">
        <div>
          <h1 ref={heading} tabIndex={-1} className="page__title">
            {title}
          </h1>
          {lead ? <div className="page__lead">{lead}</div> : null}
        </div>
        {actions ? <div className="page__actions">{actions}</div> : null}
      </header>
      {children}
    </div>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section className="section" aria-labelledby={headingId} id={id}>
      <div className="section__header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="section__actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

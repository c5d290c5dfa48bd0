import type { ReactNode } from "react";

/** A table that scrolls sideways on narrow screens, as a named region keyboard users can scroll too. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

import type { ReactNode } from "react";
import { describe } from "../api/errors";
import { t } from "../i18n";

export function Loading({ label }: { label?: string }) {
  return (
    <div className="status status--loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? t("status.loading")}</span>
    </div>
  );
}

/** An API error as a sentence, with a way to try again. */
export function ErrorNotice({ error, onRetry, children }: { error: unknown; onRetry?: () => void; children?: ReactNode }) {
  return (
    <div className="notice notice--error" role="alert">
      <p>{describe(error)}</p>
      {children}
      {onRetry ? (
        <button type="button" className="button button--small" onClick={onRetry}>
          {t("action.retry")}
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ tone = "info", children, live }: { tone?: "info" | "success" | "warning"; children: ReactNode; live?: boolean }) {
  return (
    <div className={`notice notice--${tone}`} role={live ? "status" : undefined}>
      {children}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty__title">{title}</p>
      {children}
    </div>
  );
}

export function ProgressBar({ value, label, detail }: { value: number; label: string; detail?: string }) {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0));
  return (
    <div className="progress">
      <div className="progress__label">
        <span>{label}</span>
        <span>{detail ?? `${Math.round(clamped * 100)}%`}</span>
      </div>
      <progress max={1} value={clamped} aria-label={label} />
    </div>
  );
}

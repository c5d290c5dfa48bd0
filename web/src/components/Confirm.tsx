import { describe } from "../api/errors";
import { t } from "../i18n";

/** The second step of a destructive action: what will happen, the action itself, and a way back. */
export function Confirm({
  label,
  message,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onCancel,
  compact,
}: {
  label: string;
  message?: string;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm(): void;
  onCancel(): void;
  /** Small buttons in a line, for a table cell. */
  compact?: boolean;
}) {
  const size = compact ? " button--small" : "";
  return (
    <div className={compact ? "confirm-inline" : "confirm"} role="group" aria-label={label}>
      {message ? <p>{message}</p> : null}
      <button type="button" className={`button button--danger${size}`} disabled={busy} onClick={onConfirm}>
        {confirmLabel}
      </button>
      <button type="button" className={`button button--ghost${size}`} onClick={onCancel}>
        {t("action.cancel")}
      </button>
      {error ? <p className="field__error">{describe(error)}</p> : null}
    </div>
  );
}

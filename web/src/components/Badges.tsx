import type { FileState, JobState, ModuleStatus } from "../gql/graphql";
import { t, type MessageKey } from "../i18n";

const MODULE: Record<ModuleStatus, { key: MessageKey; tone: string; icon: string }> = {
  LOCKED: { key: "module.status.LOCKED", tone: "muted", icon: "–" },
  AVAILABLE: { key: "module.status.AVAILABLE", tone: "info", icon: "○" },
  IN_PROGRESS: { key: "module.status.IN_PROGRESS", tone: "warning", icon: "◐" },
  COMPLETED: { key: "module.status.COMPLETED", tone: "success", icon: "✓" },
};

export function ModuleStatusBadge({ status }: { status: ModuleStatus | null | undefined }) {
  const entry = MODULE[status ?? "AVAILABLE"];
  return (
    <span className={`badge badge--${entry.tone}`}>
      <span aria-hidden="true">{entry.icon} </span>
      {t(entry.key)}
    </span>
  );
}

const STATE_TONE: Record<string, string> = {
  PENDING: "muted",
  QUEUED: "muted",
  INDEXING: "warning",
  RUNNING: "warning",
  INDEXED: "success",
  SUCCEEDED: "success",
  FAILED: "danger",
};

export function StateBadge({ state }: { state: FileState | JobState | null | undefined }) {
  const value = state ?? "PENDING";
  return <span className={`badge badge--${STATE_TONE[value] ?? "muted"}`}>{t(`state.${value}` as MessageKey)}</span>;
}

export function PublishedBadge({ published }: { published: boolean }) {
  return (
    <span className={`badge badge--${published ? "success" : "muted"}`}>
      {t(published ? "course.published" : "course.draft")}
    </span>
  );
}

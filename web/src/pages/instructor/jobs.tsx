// Long work (indexing an upload, drafting objectives) is followed through `jobProgress`. The ids of the jobs
// a course has running are kept in localStorage, so a reload (or another tab) picks their progress up again.
import { useEffect, useRef, useState } from "react";
import { useSubscription } from "urql";
import { hasCode } from "../../api/errors";
import { StateBadge } from "../../components/Badges";
import { ErrorNotice, ProgressBar } from "../../components/Status";
import { JobProgressDocument, type JobFieldsFragment } from "../../gql/graphql";
import { percent, t, type MessageKey } from "../../i18n";

export type JobKind = "ingest" | "objectives";

export interface TrackedJob {
  id: string;
  kind: JobKind;
  label: string;
}

const key = (courseId: string) => `lmw.jobs.${courseId}`;
const CHANGED = "lmw-jobs-changed";

function read(courseId: string): TrackedJob[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key(courseId)) ?? "[]");
    return Array.isArray(value)
      ? value.filter((j): j is TrackedJob => typeof j?.id === "string" && typeof j?.label === "string" && (j.kind === "ingest" || j.kind === "objectives"))
      : [];
  } catch {
    return [];
  }
}

function write(courseId: string, jobs: TrackedJob[]): void {
  try {
    localStorage.setItem(key(courseId), JSON.stringify(jobs));
  } catch {
    // Without storage, progress is followed until the page is left.
  }
  window.dispatchEvent(new Event(CHANGED));
}

export function trackJob(courseId: string, job: TrackedJob): void {
  write(courseId, [...read(courseId).filter((j) => j.id !== job.id), job]);
}

export function untrackJob(courseId: string, id: string): void {
  write(courseId, read(courseId).filter((j) => j.id !== id));
}

/** The course's tracked jobs of one kind, kept current across this tab and others. */
export function useTrackedJobs(courseId: string, kind: JobKind): TrackedJob[] {
  const [jobs, setJobs] = useState(() => read(courseId).filter((j) => j.kind === kind));
  useEffect(() => {
    const update = () => setJobs(read(courseId).filter((j) => j.kind === kind));
    update();
    window.addEventListener(CHANGED, update);
    window.addEventListener("storage", update);
    return () => {
      window.removeEventListener(CHANGED, update);
      window.removeEventListener("storage", update);
    };
  }, [courseId, kind]);
  return jobs;
}

/** Live progress of one job; `onDone` runs once when it has ended (succeeded or failed). */
export function JobProgress({ job, onDone }: { job: TrackedJob; onDone(result: JobFieldsFragment | null): void }) {
  const [{ data, error }] = useSubscription({ query: JobProgressDocument, variables: { id: job.id } });
  const current = data?.jobProgress;
  const gone = hasCode(error, "NOT_FOUND"); // a job the service no longer knows
  const ended = useRef(false);
  useEffect(() => {
    if (!ended.current && (current?.done || gone)) {
      ended.current = true;
      onDone(current ?? null);
    }
  }, [current, gone, onDone]);
  if (gone) return null;
  const items = current?.items ?? [];
  return (
    <div className="job" data-job={job.id}>
      <ProgressBar
        value={current?.progress ?? 0}
        label={job.label}
        detail={current ? `${t(`state.${current.state ?? "QUEUED"}` as MessageKey)} · ${percent(current.progress)}` : t("state.QUEUED")}
      />
      {current?.message && current.state === "FAILED" ? <p className="field__error">{current.message}</p> : null}
      {items.length > 1 ? (
        <ul className="job__items">
          {items.map((item) => (
            <li key={item.id}>
              {item.name} <StateBadge state={item.state} />
              {item.state === "FAILED" && item.message ? <span className="field__error"> {item.message}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {error && !gone ? <ErrorNotice error={error} /> : null}
    </div>
  );
}

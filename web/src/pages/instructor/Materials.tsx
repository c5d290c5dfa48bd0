// Course materials: upload for a module or the whole course with per-file progress, then indexing progress
// (jobProgress, picked up again after a reload), and every file's module and indexing state with the reason
// when it failed.
import { useCallback, useEffect, useMemo, useRef, useState, type ChangeEvent, type DragEvent } from "react";
import { TableScroll } from "../../components/Table";
import { useQuery, useMutation } from "urql";
import { ApiFailure, describe, isSessionRefused } from "../../api/errors";
import { uploadFile } from "../../api/http";
import { useSession } from "../../api/session";
import { StateBadge } from "../../components/Badges";
import { Confirm } from "../../components/Confirm";
import { SelectField } from "../../components/Form";
import { Section } from "../../components/Page";
import { Empty, ErrorNotice, Loading, ProgressBar } from "../../components/Status";
import {
  CourseFilesDocument,
  type CourseFilesQuery,
  DeleteCourseFileDocument,
  MoveCourseFileDocument,
  UploadCourseFilesDocument,
  type UploadCourseFilesMutation,
  type UploadCourseFilesMutationVariables,
} from "../../gql/graphql";
import { dateTime, fileSize, t, type MessageKey } from "../../i18n";
import type { EditedCourse } from "./CourseEditor";
import { JobProgress, trackJob, untrackJob, useTrackedJobs } from "./jobs";

const ACCEPT = ".pdf,.docx,.pptx,.html,.htm,.md,.markdown,.txt";
// While files are still being indexed, their states are read again this often (other tabs, background work).
const REFRESH_MS = 4000;

interface Upload {
  key: string;
  name: string;
  /** Set when the same content was already in the course, attached to another module than asked. */
  elsewhere?: string;
  sent: number;
  total: number;
  state: "waiting" | "uploading" | "done" | "duplicate" | "failed";
  error?: unknown;
}

/** The modules a file can belong to, "" standing for the whole course, and the name of each. */
interface Placement {
  options: { value: string; label: string }[];
  name(moduleId: string | null | undefined): string;
}

function usePlacement(modules: EditedCourse["modules"]): Placement {
  return useMemo(() => {
    const wholeCourse = { value: "", label: t("materials.wholeCourse") };
    const options = [wholeCourse, ...modules.map((m) => ({ value: m.id, label: m.title }))];
    // A file whose module is gone reads as course-wide, as the API treats it.
    const name = (moduleId: string | null | undefined) => (options.find((o) => o.value === (moduleId ?? "")) ?? wholeCourse).label;
    return { options, name };
  }, [modules]);
}

function useUploads(courseId: string, placement: Placement, onUploaded: () => void) {
  const { session, expire } = useSession();
  const [uploads, setUploads] = useState<Upload[]>([]);
  // Each file keeps the module chosen when it was added, whatever is chosen while it waits.
  const queue = useRef<{ key: string; file: File; moduleId: string }[]>([]);
  const running = useRef(false);
  const patch = (key: string, change: Partial<Upload>) =>
    setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const pump = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    // One file at a time: each gets the whole connection and its own progress bar.
    for (let item = queue.current.shift(); item; item = queue.current.shift()) {
      const { key, file, moduleId } = item;
      patch(key, { state: "uploading" });
      try {
        const data = await uploadFile<UploadCourseFilesMutation, UploadCourseFilesMutationVariables>({
          document: UploadCourseFilesDocument,
          variables: { courseId, moduleId: moduleId || null },
          file,
          token: session?.token ?? null,
          onProgress: (sent, total) => patch(key, { sent, total }),
        });
        const result = data.uploadCourseFiles[0];
        if (result?.job) trackJob(courseId, { id: result.job.id, kind: "ingest", label: t("materials.indexing", { name: result.file.name }) });
        const elsewhere = result?.duplicate && (result.file.moduleId ?? "") !== moduleId ? placement.name(result.file.moduleId) : undefined;
        patch(key, { state: result?.duplicate ? "duplicate" : "done", elsewhere, sent: file.size, total: file.size });
        onUploaded();
      } catch (error) {
        if (error instanceof ApiFailure && isSessionRefused(error)) expire();
        patch(key, { state: "failed", error });
      }
    }
    running.current = false;
  }, [courseId, placement, session?.token, expire, onUploaded]);

  const add = (files: File[], moduleId: string) => {
    const items = files.map((file) => ({ key: `${file.name}-${file.size}-${Math.random()}`, file, moduleId }));
    setUploads((all) => [
      ...all.filter((u) => u.state === "uploading" || u.state === "waiting" || u.state === "failed"),
      ...items.map(({ key, file }) => ({ key, name: file.name, sent: 0, total: file.size, state: "waiting" as const })),
    ]);
    queue.current.push(...items);
    void pump();
  };
  return { uploads, add };
}

function Uploader({ courseId, placement, onUploaded }: { courseId: string; placement: Placement; onUploaded(): void }) {
  const { uploads, add } = useUploads(courseId, placement, onUploaded);
  const [target, setTarget] = useState("");
  const [dropping, setDropping] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    add(Array.from(event.target.files ?? []), target);
    event.target.value = "";
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDropping(false);
    add(Array.from(event.dataTransfer.files), target);
  };
  return (
    <Section title={t("materials.upload")}>
      <SelectField
        label={t("materials.uploadTo")}
        hint={t("materials.uploadToHint")}
        options={placement.options}
        value={target}
        onChange={(event) => setTarget(event.target.value)}
      />
      <div
        className={dropping ? "dropzone dropzone--active" : "dropzone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDropping(true);
        }}
        onDragLeave={() => setDropping(false)}
        onDrop={drop}
      >
        <p>{t("materials.dropHint")}</p>
        <input ref={input} id="material-files" className="visually-hidden-input" type="file" multiple accept={ACCEPT} onChange={choose} />
        <label className="button" htmlFor="material-files">
          {t("materials.choose")}
        </label>
        <p className="muted">{t("materials.types")}</p>
      </div>
      {uploads.length ? (
        <ul className="uploads" aria-label={t("materials.uploads")}>
          {uploads.map((u) => (
            <li key={u.key} className="upload">
              <ProgressBar
                value={u.total ? u.sent / u.total : 0}
                label={u.name}
                detail={
                  u.elsewhere
                    ? t("materials.upload.duplicateElsewhere", { module: u.elsewhere })
                    : t(`materials.upload.${u.state}` as MessageKey, { sent: fileSize(u.sent), total: fileSize(u.total) })
                }
              />
              {u.state === "failed" ? <p className="field__error">{describe(u.error)}</p> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}

function ModuleChoice({ courseId, file, placement, onMoved }: { courseId: string; file: CourseFileRow; placement: Placement; onMoved(): void }) {
  const [move, send] = useMutation(MoveCourseFileDocument);
  const [announced, setAnnounced] = useState("");
  const indexing = file.state === "PENDING" || file.state === "INDEXING";
  const change = async (moduleId: string) => {
    const result = await send({ courseId, fileId: file.id, moduleId: moduleId || null });
    if (result.error) return;
    setAnnounced(t("materials.moved", { name: file.name, module: placement.name(moduleId) }));
    onMoved();
  };
  return (
    <>
      <select
        aria-label={t("materials.moduleOf", { name: file.name })}
        value={file.moduleId ?? ""}
        disabled={indexing || move.fetching}
        onChange={(event) => void change(event.target.value)}
      >
        {placement.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {indexing ? <p className="muted">{t("materials.moveWhileIndexing")}</p> : null}
      {move.error ? <p className="field__error">{describe(move.error)}</p> : null}
      <p className="sr-only" role="status">
        {announced}
      </p>
    </>
  );
}

type CourseFileRow = NonNullable<CourseFilesQuery["courseFiles"]>["edges"][number]["node"];

export default function Materials({ course }: { course: EditedCourse }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: CourseFilesDocument, variables: { courseId: course.id } });
  const [removal, remove] = useMutation(DeleteCourseFileDocument);
  const placement = usePlacement(course.modules);
  const [confirming, setConfirming] = useState<string | null>(null);
  const jobs = useTrackedJobs(course.id, "ingest");
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const files = data?.courseFiles.edges.map((e) => e.node) ?? [];
  const status = data?.indexingStatus;
  const unsettled = files.some((f) => f.state === "PENDING" || f.state === "INDEXING");

  useEffect(() => {
    if (!unsettled) return;
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [unsettled, reload]);

  const ended = useCallback(
    (id: string) => {
      untrackJob(course.id, id);
      reload();
    },
    [course.id, reload],
  );

  return (
    <>
      <Uploader courseId={course.id} placement={placement} onUploaded={reload} />
      {jobs.length ? (
        <Section title={t("materials.indexingTitle")}>
          {jobs.map((job) => (
            <JobProgress key={job.id} job={job} onDone={() => ended(job.id)} />
          ))}
        </Section>
      ) : null}
      <Section title={t("materials.files")}>
        {status ? (
          <p role="status">
            {t(`materials.index.${status.state ?? "EMPTY"}` as MessageKey, {
              indexed: status.indexedFileCount,
              total: status.fileCount,
              chunks: status.chunkCount,
              failed: status.failedFileCount,
            })}
          </p>
        ) : null}
        {!data && fetching ? <Loading /> : null}
        {error && !data ? <ErrorNotice error={error} onRetry={reload} /> : null}
        {data && !files.length ? <Empty title={t("materials.empty")} /> : null}
        {files.length ? (
          <TableScroll label={t("materials.files")}>
            <table className="table">
              <caption className="sr-only">{t("materials.files")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("materials.name")}</th>
                  <th scope="col">{t("materials.module")}</th>
                  <th scope="col">{t("materials.size")}</th>
                  <th scope="col">{t("materials.state")}</th>
                  <th scope="col">{t("materials.passages")}</th>
                  <th scope="col">{t("materials.added")}</th>
                  <th scope="col">
                    <span className="sr-only">{t("materials.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {files.map((file) => (
                  <tr key={file.id}>
                    <th scope="row" className="file-name">
                      {file.name}
                    </th>
                    <td>
                      <ModuleChoice courseId={course.id} file={file} placement={placement} onMoved={reload} />
                    </td>
                    <td>{fileSize(file.sizeBytes)}</td>
                    <td>
                      <StateBadge state={file.state} />
                      {file.state === "FAILED" ? (
                        <p className="field__error">{file.stateMessage || t("materials.failedNoReason")}</p>
                      ) : file.state === "PENDING" && file.stateMessage ? (
                        <p className="muted">{file.stateMessage}</p>
                      ) : null}
                    </td>
                    <td>{file.chunkCount || "–"}</td>
                    <td>{dateTime(file.createTime)}</td>
                    <td>
                      {confirming === file.id ? (
                        <Confirm
                          compact
                          label={t("materials.deleteOne", { name: file.name })}
                          confirmLabel={t("materials.confirmDelete")}
                          busy={removal.fetching}
                          error={removal.error}
                          onCancel={() => setConfirming(null)}
                          onConfirm={async () => {
                            const result = await remove({ courseId: course.id, fileId: file.id });
                            if (!result.error) {
                              setConfirming(null);
                              reload();
                            }
                          }}
                        />
                      ) : (
                        <button
                          type="button"
                          className="button button--small button--ghost"
                          aria-label={t("materials.deleteOne", { name: file.name })}
                          onClick={() => setConfirming(file.id)}
                        >
                          {t("action.delete")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        ) : null}
      </Section>
    </>
  );
}

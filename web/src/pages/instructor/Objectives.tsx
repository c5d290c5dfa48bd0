// Learning objectives: drafted from the materials (a job, followed live and after a reload), reviewed per
// module with their citations, edited, and approved.
import { useCallback, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { describe } from "../../api/errors";
import { SelectField } from "../../components/Form";
import { Section } from "../../components/Page";
import { CitationChip, useSourceViewer } from "../../components/Sources";
import { Empty, ErrorNotice, Loading, Notice } from "../../components/Status";
import {
  ApproveLearningObjectivesDocument,
  GenerateLearningObjectivesDocument,
  LearningObjectivesDocument,
  UpdateLearningObjectivesDocument,
  type LearningObjectivesQuery,
} from "../../gql/graphql";
import { t, type MessageKey } from "../../i18n";
import type { EditedCourse } from "./CourseEditor";
import { JobProgress, trackJob, untrackJob, useTrackedJobs } from "./jobs";

type ModuleObjectives = LearningObjectivesQuery["learningObjectives"][number];
const MAX_OBJECTIVE = 500;

function Editor({
  courseId,
  module,
  onDone,
}: {
  courseId: string;
  module: ModuleObjectives;
  onDone(saved: boolean): void;
}) {
  const [items, setItems] = useState(module.objectives.map((o) => ({ id: o.id as string | null, text: o.text })));
  const [update, save] = useMutation(UpdateLearningObjectivesDocument);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const objectives = items.filter((i) => i.text.trim()).map((i) => ({ id: i.id, text: i.text.trim() }));
    const result = await save({ courseId, moduleId: module.moduleId, objectives, expectedVersion: module.version });
    if (!result.error) onDone(true);
  };
  return (
    <form className="form" onSubmit={submit}>
      <ol className="objective-edit">
        {items.map((item, index) => (
          <li key={index}>
            <label htmlFor={`objective-${module.moduleId}-${index}`}>{t("objectives.objectiveN", { n: index + 1 })}</label>
            <div className="objective-edit__row">
              <textarea
                id={`objective-${module.moduleId}-${index}`}
                value={item.text}
                rows={2}
                maxLength={MAX_OBJECTIVE}
                onChange={(e) => setItems(items.map((x, i) => (i === index ? { ...x, text: e.target.value } : x)))}
              />
              <button
                type="button"
                className="button button--small button--ghost"
                aria-label={t("objectives.removeN", { n: index + 1 })}
                onClick={() => setItems(items.filter((_, i) => i !== index))}
              >
                {t("action.remove")}
              </button>
            </div>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" className="button button--secondary" onClick={() => setItems([...items, { id: null, text: "" }])}>
          {t("objectives.add")}
        </button>
        <button type="submit" className="button" disabled={update.fetching || !items.some((i) => i.text.trim())}>
          {t("objectives.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={() => onDone(false)}>
          {t("action.cancel")}
        </button>
      </div>
      {update.error ? <ErrorNotice error={update.error} /> : null}
    </form>
  );
}

function ModuleCard({
  courseId,
  title,
  module,
  onChanged,
  onOpen,
  onRegenerate,
  busy,
}: {
  courseId: string;
  title: string;
  module: ModuleObjectives | undefined;
  onChanged(): void;
  onOpen: ReturnType<typeof useSourceViewer>["open"];
  onRegenerate(): void;
  busy: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [approval, approve] = useMutation(ApproveLearningObjectivesDocument);
  const objectives = module?.objectives ?? [];
  const state = !module || !objectives.length ? "none" : module.stale ? "stale" : module.approved ? "approved" : "review";
  return (
    <article className="card objectives" aria-labelledby={`objectives-${module?.moduleId ?? title}`}>
      <div className="objectives__head">
        <h3 id={`objectives-${module?.moduleId ?? title}`}>{title}</h3>
        <span className={`badge badge--${state === "approved" ? "success" : state === "none" ? "muted" : "warning"}`}>
          {t(`objectives.state.${state}` as MessageKey)}
        </span>
      </div>
      {module && objectives.length ? <p className="muted">{t("objectives.version", { version: module.version })}</p> : null}
      {editing && module ? (
        <Editor
          courseId={courseId}
          module={module}
          onDone={(saved) => {
            setEditing(false);
            if (saved) onChanged();
          }}
        />
      ) : objectives.length ? (
        <ol className="objectives__list">
          {objectives.map((o) => (
            <li key={o.id}>
              {o.text}{" "}
              {o.citations.map((c, i) => (
                <CitationChip key={`${c.chunkId}-${i}`} n={i + 1} citation={c} onOpen={onOpen} />
              ))}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">{t("objectives.noneYet")}</p>
      )}
      {!editing ? (
        <div className="actions">
          {module && objectives.length && !module.approved ? (
            <button
              type="button"
              className="button"
              disabled={approval.fetching}
              onClick={async () => {
                const result = await approve({ courseId, moduleId: module.moduleId, version: module.version });
                if (!result.error) onChanged();
              }}
            >
              {t("objectives.approve")}
            </button>
          ) : null}
          {module && objectives.length ? (
            <button type="button" className="button button--secondary" onClick={() => setEditing(true)}>
              {t("action.edit")}
            </button>
          ) : null}
          <button type="button" className="button button--ghost" onClick={onRegenerate} disabled={busy}>
            {t(objectives.length ? "objectives.redraft" : "objectives.draft")}
          </button>
        </div>
      ) : null}
      {approval.error ? <ErrorNotice error={approval.error} /> : null}
    </article>
  );
}

export default function Objectives({ course, onChanged }: { course: EditedCourse; onChanged(): void }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: LearningObjectivesDocument, variables: { courseId: course.id } });
  const [generation, generate] = useMutation(GenerateLearningObjectivesDocument);
  const [count, setCount] = useState("4");
  const jobs = useTrackedJobs(course.id, "objectives");
  const sources = useSourceViewer(course.id);
  const reload = useCallback(() => {
    refetch({ requestPolicy: "network-only" });
    onChanged();
  }, [refetch, onChanged]);
  const byModule = new Map(data?.learningObjectives.map((m) => [m.moduleId, m]));
  const modules = [...course.modules].sort((a, b) => a.position - b.position);

  const draft = async (moduleIds: string[] | null, label: string) => {
    const result = await generate({ courseId: course.id, moduleIds, count: Number(count) });
    if (result.data) trackJob(course.id, { id: result.data.generateLearningObjectives.id, kind: "objectives", label });
  };
  const running = jobs.length > 0 || generation.fetching;

  return (
    <>
      <Section title={t("objectives.title")}>
        <p className="muted">{t("objectives.lead")}</p>
        {!modules.length ? <Notice>{t("objectives.noModules")}</Notice> : null}
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void draft(null, t("objectives.draftingAll"));
          }}
        >
          <SelectField
            label={t("objectives.count")}
            value={count}
            onChange={(e) => setCount(e.target.value)}
            options={["2", "3", "4", "5", "6"].map((v) => ({ value: v, label: v }))}
          />
          <button type="submit" className="button" disabled={running || !modules.length}>
            {t("objectives.draftAll")}
          </button>
        </form>
        {generation.error ? <p className="field__error" role="alert">{describe(generation.error)}</p> : null}
        {jobs.map((job) => (
          <JobProgress
            key={job.id}
            job={job}
            onDone={() => {
              untrackJob(course.id, job.id);
              reload();
            }}
          />
        ))}
      </Section>
      {!data && fetching ? <Loading /> : null}
      {error && !data ? <ErrorNotice error={error} onRetry={reload} /> : null}
      {data && !modules.length ? <Empty title={t("objectives.noModules")} /> : null}
      <div className="stack">
        {modules.map((m) => (
          <ModuleCard
            key={m.id}
            courseId={course.id}
            title={m.title}
            module={byModule.get(m.id)}
            onChanged={reload}
            onOpen={sources.open}
            busy={running}
            onRegenerate={() => void draft([m.id], t("objectives.draftingOne", { title: m.title }))}
          />
        ))}
      </div>
      {sources.viewer}
    </>
  );
}

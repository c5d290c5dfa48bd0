import { useEffect, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { hasReason, problemsOf } from "../../api/errors";
import { Confirm } from "../../components/Confirm";
import { TextArea, TextField } from "../../components/Form";
import { Section } from "../../components/Page";
import { ErrorNotice, Notice } from "../../components/Status";
import { DeleteCourseDocument, PublishCourseDocument, UnpublishCourseDocument, UpdateCourseDocument } from "../../gql/graphql";
import { t, type MessageKey } from "../../i18n";
import { paths } from "../../paths";
import type { EditedCourse } from "./CourseEditor";
import { Modules } from "./Modules";
import { DESCRIPTION_MAX, TITLE_MAX } from "./NewCourse";

function Details({ course, onChanged }: { course: EditedCourse; onChanged(): void }) {
  const [title, setTitle] = useState(course.title);
  const [description, setDescription] = useState(course.description);
  const [saved, setSaved] = useState(false);
  const [update, run] = useMutation(UpdateCourseDocument);
  useEffect(() => {
    setTitle(course.title);
    setDescription(course.description);
  }, [course.title, course.description]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const result = await run({ courseId: course.id, title: title.trim(), description: description.trim() });
    if (!result.error) {
      setSaved(true);
      onChanged();
    }
  };
  return (
    <Section title={t("editor.details")}>
      <form className="form" onSubmit={submit}>
        <TextField label={t("course.fieldTitle")} value={title} maxLength={TITLE_MAX} required onChange={(e) => setTitle(e.target.value)} />
        <TextArea
          label={t("course.fieldDescription")}
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={3}
          onChange={(e) => setDescription(e.target.value)}
        />
        {update.error ? <ErrorNotice error={update.error} /> : null}
        <div className="actions">
          <button type="submit" className="button" disabled={update.fetching || !title.trim()}>
            {t("action.save")}
          </button>
          <span role="status" className="muted">
            {saved ? t("action.saved") : ""}
          </span>
        </div>
      </form>
    </Section>
  );
}

/** Why publishing was refused: one sentence per unmet condition, naming the modules concerned. */
function Refusal({ error, course }: { error: unknown; course: EditedCourse }) {
  const missing = problemsOf(error)[0]?.metadata?.missing?.split(",").filter(Boolean) ?? [];
  if (!hasReason(error, "PUBLISH_PRECONDITIONS_NOT_MET") || !missing.length) return <ErrorNotice error={error} />;
  const modulesWhere = (test: (m: EditedCourse["modules"][number]) => boolean) =>
    course.modules.filter(test).map((m) => m.title).join(", ");
  const detail: Record<string, string> = {
    OBJECTIVES_MISSING: modulesWhere((m) => m.objectivesVersion === 0),
    OBJECTIVES_NOT_APPROVED: modulesWhere((m) => m.objectivesVersion > 0 && !m.objectivesApproved),
    OBJECTIVES_STALE: modulesWhere((m) => m.objectivesStale),
  };
  return (
    <div className="notice notice--error" role="alert">
      <p>{t("publish.refused")}</p>
      <ul>
        {missing.map((code) => (
          <li key={code}>
            {t(`publish.missing.${code}` as MessageKey)}
            {detail[code] ? ` (${detail[code]})` : ""}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Publishing({ course, onChanged }: { course: EditedCourse; onChanged(): void }) {
  const navigate = useNavigate();
  const [publishing, publish] = useMutation(PublishCourseDocument);
  const [unpublishing, unpublish] = useMutation(UnpublishCourseDocument);
  const [deleting, remove] = useMutation(DeleteCourseDocument);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  const toggle = async () => {
    setRefusal(null);
    const result = course.published ? await unpublish({ courseId: course.id }) : await publish({ courseId: course.id });
    if (result.error) setRefusal(result.error);
    else onChanged();
  };
  return (
    <Section title={t("publish.title")}>
      <p>{t(course.published ? "publish.isPublished" : "publish.isDraft")}</p>
      <div className="actions">
        <button type="button" className="button" onClick={toggle} disabled={publishing.fetching || unpublishing.fetching}>
          {t(course.published ? "publish.unpublish" : "publish.publish")}
        </button>
      </div>
      {refusal ? <Refusal error={refusal} course={course} /> : null}
      <h3>{t("publish.deleteTitle")}</h3>
      {course.published ? (
        <p className="muted">{t("publish.deleteUnpublishFirst")}</p>
      ) : confirmDelete ? (
        <Confirm
          label={t("publish.deleteTitle")}
          message={t("publish.deleteConfirm", { title: course.title })}
          confirmLabel={t("publish.delete")}
          busy={deleting.fetching}
          error={deleting.error}
          onCancel={() => setConfirmDelete(false)}
          onConfirm={async () => {
            const result = await remove({ courseId: course.id });
            if (!result.error) navigate(paths.teach(), { replace: true });
          }}
        />
      ) : (
        <button type="button" className="button button--ghost" onClick={() => setConfirmDelete(true)}>
          {t("publish.delete")}
        </button>
      )}
    </Section>
  );
}

export function Overview({ course, onChanged }: { course: EditedCourse; onChanged(): void }) {
  return (
    <>
      {course.published ? <Notice>{t("editor.publishedNote")}</Notice> : null}
      <Details course={course} onChanged={onChanged} />
      <Modules course={course} onChanged={onChanged} />
      <Publishing course={course} onChanged={onChanged} />
    </>
  );
}

import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { describe } from "../../api/errors";
import { useSession } from "../../api/session";
import { ModuleStatusBadge } from "../../components/Badges";
import { Confirm } from "../../components/Confirm";
import { Page, Section } from "../../components/Page";
import { ErrorNotice, Loading, Notice, ProgressBar } from "../../components/Status";
import {
  CourseOverviewDocument,
  EnrollDocument,
  LearningObjectivesDocument,
  UnenrollDocument,
  type CourseOverviewQuery,
} from "../../gql/graphql";
import { percent, t, tn } from "../../i18n";
import { paths } from "../../paths";
import { NextStep, useDashboard, type DashboardData } from "./learning";

type Course = CourseOverviewQuery["course"];

/** A visitor who is not signed in: what the catalog showed, and a way in. */
function Visitor() {
  const location = useLocation();
  const card = (location.state as { title?: string; description?: string } | null) ?? {};
  return (
    <Page title={card.title ?? t("course.visitorTitle")} lead={card.description}>
      <Notice>
        <p>{t("course.visitorText")}</p>
        <p className="actions">
          <Link className="button" to={paths.signUp(location.pathname)}>
            {t("nav.signUp")}
          </Link>
          <Link className="button button--secondary" to={paths.logIn(location.pathname)}>
            {t("nav.logIn")}
          </Link>
        </p>
      </Notice>
    </Page>
  );
}

function ModuleList({ course, dashboard }: { course: Course; dashboard: DashboardData | null }) {
  const states = new Map(dashboard?.modules.map((m) => [m.moduleId, m]));
  return (
    <ol className="modules">
      {course.modules.map((module) => {
        const state = states.get(module.id);
        const locked = state?.status === "LOCKED";
        return (
          <li key={module.id} className="module">
            <div className="module__head">
              <h3 className="module__title">
                {dashboard && !locked ? <Link to={paths.reader(course.id, module.id)}>{module.title}</Link> : module.title}
              </h3>
              {dashboard ? <ModuleStatusBadge status={state?.status} /> : null}
            </div>
            {module.description ? <p className="module__text">{module.description}</p> : null}
            {state && state.attemptCount > 0 ? (
              <p className="module__meta">
                {t("course.bestScore", { score: percent(state.bestScore), pass: percent(module.passMark) })}{" "}
                {tn(state.attemptCount, "course.attempts.one", "course.attempts.other")}
              </p>
            ) : null}
            {locked ? <p className="module__meta">{t("course.lockedHint")}</p> : null}
          </li>
        );
      })}
    </ol>
  );
}

function LearnerCourse({ course, learnerId }: { course: Course; learnerId: string }) {
  const { dashboard, enrolled, error, fetching, refetch } = useDashboard(course.id);
  const [enrolling, enroll] = useMutation(EnrollDocument);
  const [leaving, unenroll] = useMutation(UnenrollDocument);
  const [confirming, setConfirming] = useState(false);
  if (enrolled === null && fetching) return <Loading />;
  if (error) return <ErrorNotice error={error} onRetry={refetch} />;
  return (
    <>
      {dashboard ? (
        <Section title={t("course.yourProgress")}>
          <ProgressBar
            value={dashboard.progress}
            label={t("course.progress")}
            detail={t("course.progressDetail", {
              done: dashboard.completedModuleCount,
              total: dashboard.modules.length,
            })}
          />
          <NextStep dashboard={dashboard} onChanged={refetch} />
          <p className="actions">
            <Link className="button button--secondary" to={paths.dashboard(learnerId, course.id)}>
              {t("course.openDashboard")}
            </Link>
            <Link className="button button--secondary" to={paths.tutor(course.id)}>
              {t("course.askTutor")}
            </Link>
          </p>
        </Section>
      ) : (
        <Notice>
          <p>{t("course.enrollText")}</p>
          <button
            type="button"
            className="button"
            disabled={enrolling.fetching}
            onClick={async () => {
              const result = await enroll({ courseId: course.id });
              if (!result.error) refetch();
            }}
          >
            {enrolling.fetching ? t("status.working") : t("course.enroll")}
          </button>
          {enrolling.error ? <p className="field__error">{describe(enrolling.error)}</p> : null}
        </Notice>
      )}
      <Section title={t("course.modules")}>
        <ModuleList course={course} dashboard={dashboard} />
      </Section>
      {dashboard ? (
        <Section title={t("course.leaveTitle")}>
          {confirming ? (
            <Confirm
              label={t("course.leaveTitle")}
              message={t("course.leaveConfirm")}
              confirmLabel={t("course.leave")}
              busy={leaving.fetching}
              error={leaving.error}
              onCancel={() => setConfirming(false)}
              onConfirm={async () => {
                const result = await unenroll({ courseId: course.id });
                if (!result.error) {
                  setConfirming(false);
                  refetch();
                }
              }}
            />
          ) : (
            <button type="button" className="button button--ghost" onClick={() => setConfirming(true)}>
              {t("course.leave")}
            </button>
          )}
        </Section>
      ) : null}
    </>
  );
}

/** The course's own instructor sees it as learners will ("view as learner"), with its objectives. */
function Preview({ course }: { course: Course }) {
  const [{ data }] = useQuery({ query: LearningObjectivesDocument, variables: { courseId: course.id } });
  const objectives = new Map(data?.learningObjectives.map((m) => [m.moduleId, m.objectives]));
  return (
    <>
      <Notice tone="warning">
        <p>{t(course.published ? "preview.published" : "preview.draft")}</p>
        <Link to={paths.editor(course.id)}>{t("preview.backToEditor")}</Link>
      </Notice>
      <Section title={t("course.modules")}>
        <ol className="modules">
          {course.modules.map((module) => (
            <li key={module.id} className="module">
              <h3 className="module__title">{module.title}</h3>
              {module.description ? <p className="module__text">{module.description}</p> : null}
              {objectives.get(module.id)?.length ? (
                <>
                  <p className="module__meta">{t("preview.objectives")}</p>
                  <ul>
                    {objectives.get(module.id)!.map((o) => (
                      <li key={o.id}>{o.text}</li>
                    ))}
                  </ul>
                </>
              ) : null}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}

export default function CoursePage() {
  const { courseId = "" } = useParams();
  const { session } = useSession();
  const [{ data, error, fetching }, refetch] = useQuery({
    query: CourseOverviewDocument,
    variables: { id: courseId },
    pause: !session,
  });
  if (!session) return <Visitor />;
  if (!data && fetching) return <Loading />;
  if (!data) {
    return (
      <Page title={t("course.unavailableTitle")}>
        <ErrorNotice error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />
        <p>
          <Link to={paths.home()}>{t("course.backToCatalog")}</Link>
        </p>
      </Page>
    );
  }
  const course = data.course;
  return (
    <Page title={course.title} lead={course.description}>
      {session.role === "INSTRUCTOR" ? <Preview course={course} /> : <LearnerCourse course={course} learnerId={session.userId} />}
    </Page>
  );
}

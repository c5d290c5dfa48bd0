// What the learner pages share: the dashboard of the course (module states, next step) and the next step as
// one click.
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { hasReason } from "../../api/errors";
import { ErrorNotice, Notice } from "../../components/Status";
import {
  CompleteModuleDocument,
  CourseDashboardDocument,
  type CourseDashboardQuery,
  type NextStepKind,
} from "../../gql/graphql";
import { t } from "../../i18n";
import { paths } from "../../paths";

export type DashboardData = CourseDashboardQuery["dashboard"];

/** The caller's dashboard of a course; `enrolled` is false when the learner has not enrolled (yet). */
export function useDashboard(courseId: string, learnerId?: string) {
  const [result, refetch] = useQuery({
    query: CourseDashboardDocument,
    variables: { courseId, learnerId: learnerId ?? null },
  });
  const notEnrolled = hasReason(result.error, "NOT_ENROLLED");
  return {
    dashboard: result.data?.dashboard ?? null,
    fetching: result.fetching,
    error: notEnrolled ? null : result.error,
    enrolled: result.data ? true : notEnrolled ? false : null,
    refetch: () => refetch({ requestPolicy: "network-only" }),
  };
}

/** Where a reading or quiz step leads. */
function stepPath(courseId: string, kind: NextStepKind | null | undefined, moduleId: string | null | undefined) {
  if (!moduleId) return null;
  if (kind === "TAKE_QUIZ" || kind === "RETAKE_QUIZ") return paths.quiz(courseId, moduleId);
  if (kind === "READ") return paths.reader(courseId, moduleId);
  return null;
}

/** The dashboard's next step: what to do, and the one click that does it (or leads there). */
export function NextStep({ dashboard, onChanged }: { dashboard: DashboardData; onChanged(): void }) {
  const [completion, complete] = useMutation(CompleteModuleDocument);
  const step = dashboard.nextStep;
  if (!step) return null;
  if (step.kind === "COURSE_COMPLETED") return <Notice tone="success">{t("course.completed")}</Notice>;
  const to = stepPath(dashboard.courseId, step.kind, step.moduleId);
  const title = dashboard.modules.find((m) => m.moduleId === step.moduleId)?.title ?? "";
  return (
    <div className="next-step">
      <p className="next-step__text">{step.message}</p>
      {step.kind === "COMPLETE_MODULE" && step.moduleId ? (
        <button
          type="button"
          className="button"
          disabled={completion.fetching}
          onClick={async () => {
            const result = await complete({ courseId: dashboard.courseId, moduleId: step.moduleId! });
            if (!result.error) onChanged();
          }}
        >
          {t("course.completeModule", { title })}
        </button>
      ) : to ? (
        <Link className="button" to={to}>
          {step.kind === "READ" ? t("course.continueReading", { title }) : t("course.continueQuiz", { title })}
        </Link>
      ) : null}
      {completion.error ? <ErrorNotice error={completion.error} /> : null}
    </div>
  );
}

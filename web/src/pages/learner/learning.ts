// What the learner pages share: the dashboard of the course (module states, next step) and where a step leads.
import { useQuery } from "urql";
import { hasReason } from "../../api/errors";
import { CourseDashboardDocument, type CourseDashboardQuery, type NextStepKind } from "../../gql/graphql";
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

/** Where the next step leads (COMPLETE_MODULE and COURSE_COMPLETED are done on the course page). */
export function stepPath(courseId: string, kind: NextStepKind | null | undefined, moduleId: string | null | undefined) {
  if (!moduleId) return null;
  if (kind === "TAKE_QUIZ" || kind === "RETAKE_QUIZ") return paths.quiz(courseId, moduleId);
  if (kind === "READ") return paths.reader(courseId, moduleId);
  return null;
}

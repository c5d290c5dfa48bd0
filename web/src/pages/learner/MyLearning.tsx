import { Link } from "react-router";
import { useQuery } from "urql";
import { useSession } from "../../api/session";
import { Page } from "../../components/Page";
import { Empty, ErrorNotice, Loading } from "../../components/Status";
import { MyCoursesDocument } from "../../gql/graphql";
import { dateTime, t, tn } from "../../i18n";
import { paths } from "../../paths";

export default function MyLearning() {
  const { session } = useSession();
  // One page of the largest size: a learner follows far fewer courses.
  const [{ data, error, fetching }, refetch] = useQuery({ query: MyCoursesDocument, variables: { first: 100, after: null } });
  const enrollments = data?.myCourses.edges.map((e) => e.node).filter((e) => e.state === "ACTIVE") ?? [];
  return (
    <Page title={t("learning.title")} lead={t("learning.lead", { name: session?.name ?? "" })}>
      {!data && fetching ? <Loading /> : null}
      {error && !data ? <ErrorNotice error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} /> : null}
      {data && !enrollments.length ? (
        <Empty title={t("learning.empty")}>
          <Link className="button" to={paths.home()}>
            {t("learning.browse")}
          </Link>
        </Empty>
      ) : null}
      {enrollments.length ? (
        <ul className="cards">
          {enrollments.map((e) => (
            <li key={e.courseId} className="card">
              <h2 className="card__title">
                <Link to={paths.course(e.courseId)}>{e.course?.title ?? t("learning.unavailableCourse")}</Link>
              </h2>
              {e.course?.description ? <p className="card__text">{e.course.description}</p> : null}
              <p className="card__meta">
                {e.course ? tn(e.course.modules.length, "catalog.modules.one", "catalog.modules.other") : null}
                {e.enrollTime ? ` · ${t("learning.since", { date: dateTime(e.enrollTime) })}` : null}
              </p>
              {session ? (
                <p>
                  <Link to={paths.dashboard(session.userId, e.courseId)}>{t("learning.dashboard")}</Link>
                </p>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </Page>
  );
}

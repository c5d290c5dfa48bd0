import { Link } from "react-router";
import { useQuery } from "urql";
import { PublishedBadge } from "../../components/Badges";
import { Page } from "../../components/Page";
import { Pager, useCursorPages } from "../../components/Pager";
import { Empty, ErrorNotice, Loading } from "../../components/Status";
import { InstructorCoursesDocument } from "../../gql/graphql";
import { dateTime, t, tn } from "../../i18n";
import { paths } from "../../paths";

export default function MyCourses() {
  const pages = useCursorPages();
  const [{ data, error, fetching }, refetch] = useQuery({
    query: InstructorCoursesDocument,
    variables: { first: 20, after: pages.after },
  });
  const courses = data?.instructorCourses.edges.map((e) => e.node) ?? [];
  const pageInfo = data?.instructorCourses.pageInfo;
  return (
    <Page
      title={t("teach.title")}
      lead={t("teach.lead")}
      actions={
        <Link className="button" to={paths.newCourse()}>
          {t("teach.new")}
        </Link>
      }
    >
      {!data && fetching ? <Loading /> : null}
      {error && !data ? <ErrorNotice error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} /> : null}
      {data && !courses.length && pages.page === 1 ? (
        <Empty title={t("teach.empty")}>
          <p>{t("teach.emptyText")}</p>
        </Empty>
      ) : null}
      {courses.length ? (
        <ul className="cards">
          {courses.map((course) => {
            const approved = course.modules.filter((m) => m.objectivesApproved).length;
            return (
              <li key={course.id} className="card">
                <h2 className="card__title">
                  <Link to={paths.editor(course.id)}>{course.title}</Link>
                </h2>
                <p>
                  <PublishedBadge published={course.published} />
                </p>
                {course.description ? <p className="card__text">{course.description}</p> : null}
                <p className="card__meta">
                  {tn(course.modules.length, "catalog.modules.one", "catalog.modules.other")}
                  {course.modules.length ? ` · ${t("teach.approved", { approved, total: course.modules.length })}` : ""}
                  {course.updateTime ? ` · ${t("teach.updated", { date: dateTime(course.updateTime) })}` : ""}
                </p>
              </li>
            );
          })}
        </ul>
      ) : null}
      {pages.page > 1 || pageInfo?.hasNextPage ? (
        <Pager
          label={t("pager.page", { page: pages.page })}
          hasPrevious={pages.page > 1}
          hasNext={!!pageInfo?.hasNextPage}
          onPrevious={pages.back}
          onNext={() => pages.forward(pageInfo?.endCursor)}
        />
      ) : null}
    </Page>
  );
}

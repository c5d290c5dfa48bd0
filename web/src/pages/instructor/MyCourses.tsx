import { useState } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";
import { PublishedBadge } from "../../components/Badges";
import { Page } from "../../components/Page";
import { Empty, ErrorNotice, Loading } from "../../components/Status";
import { InstructorCoursesDocument } from "../../gql/graphql";
import { dateTime, t, tn } from "../../i18n";
import { paths } from "../../paths";

export default function MyCourses() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [{ data, error, fetching }, refetch] = useQuery({ query: InstructorCoursesDocument, variables: { first: 20, after } });
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
      {data && !courses.length && cursors.length === 1 ? (
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
      {cursors.length > 1 || pageInfo?.hasNextPage ? (
        <nav className="pager" aria-label={t("pager.label")}>
          <button type="button" className="button button--secondary" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
            {t("pager.previous")}
          </button>
          <span>{t("pager.page", { page: cursors.length })}</span>
          <button
            type="button"
            className="button button--secondary"
            disabled={!pageInfo?.hasNextPage}
            onClick={() => setCursors([...cursors, pageInfo?.endCursor ?? null])}
          >
            {t("pager.next")}
          </button>
        </nav>
      ) : null}
    </Page>
  );
}

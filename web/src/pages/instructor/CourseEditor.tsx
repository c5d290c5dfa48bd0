import { Suspense, lazy } from "react";
import { Link, NavLink, useParams } from "react-router";
import { useQuery } from "urql";
import { PublishedBadge } from "../../components/Badges";
import { Page } from "../../components/Page";
import { ErrorNotice, Loading } from "../../components/Status";
import { CourseEditorDocument, type CourseEditorQuery } from "../../gql/graphql";
import { t } from "../../i18n";
import { paths } from "../../paths";
import NotFound from "../NotFound";
import { Overview } from "./Overview";

const Materials = lazy(() => import("./Materials"));
const Objectives = lazy(() => import("./Objectives"));
const Analytics = lazy(() => import("./Analytics"));

export type EditedCourse = CourseEditorQuery["course"];

const TABS = [
  { tab: undefined, key: "editor.tabOverview" },
  { tab: "materials", key: "editor.tabMaterials" },
  { tab: "objectives", key: "editor.tabObjectives" },
  { tab: "analytics", key: "editor.tabAnalytics" },
] as const;

export default function CourseEditor() {
  const { courseId = "", tab } = useParams();
  const [{ data, error, fetching }, refetch] = useQuery({ query: CourseEditorDocument, variables: { id: courseId } });
  const reload = () => refetch({ requestPolicy: "network-only" });
  if (tab && !TABS.some((x) => x.tab === tab)) return <NotFound />;
  if (!data && fetching) return <Loading />;
  if (!data) {
    return (
      <Page title={t("editor.unavailable")}>
        <ErrorNotice error={error} onRetry={reload} />
        <p>
          <Link to={paths.teach()}>{t("editor.backToCourses")}</Link>
        </p>
      </Page>
    );
  }
  const course = data.course;
  return (
    <Page
      title={course.title}
      lead={<PublishedBadge published={course.published} />}
      actions={
        <Link className="button button--secondary" to={paths.course(course.id)}>
          {t("editor.viewAsLearner")}
        </Link>
      }
      wide
    >
      <nav className="tabs" aria-label={t("editor.sections")}>
        <ul>
          {TABS.map((x) => (
            <li key={x.key}>
              <NavLink to={paths.editor(course.id, x.tab)} end>
                {t(x.key)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Suspense fallback={<Loading />}>
      {tab === "materials" ? (
        <Materials course={course} />
      ) : tab === "objectives" ? (
        <Objectives course={course} onChanged={reload} />
      ) : tab === "analytics" ? (
        <Analytics course={course} />
      ) : (
        <Overview course={course} onChanged={reload} />
      )}
      </Suspense>
    </Page>
  );
}

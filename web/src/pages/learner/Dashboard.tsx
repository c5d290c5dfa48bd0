import { useState } from "react";
import { Link, useParams } from "react-router";
import { useSession } from "../../api/session";
import { ModuleStatusBadge } from "../../components/Badges";
import { BarChart } from "../../components/Charts";
import { TableScroll } from "../../components/Table";
import { Page, Section } from "../../components/Page";
import { Empty, ErrorNotice, Loading, Notice, ProgressBar } from "../../components/Status";
import { dateTime, percent, t } from "../../i18n";
import { paths } from "../../paths";
import { NextStep, useDashboard } from "./learning";
import { summary } from "./preferences";

// Objectives charted before "show all" (a course may have hundreds).
const MASTERY_SHOWN = 24;

export default function Dashboard() {
  const { learnerId = "", courseId = "" } = useParams();
  const { session } = useSession();
  const { dashboard, error, fetching, refetch, enrolled } = useDashboard(courseId, learnerId);
  const [showAll, setShowAll] = useState(false);
  if (!dashboard && fetching) return <Loading />;
  if (!dashboard) {
    return (
      <Page title={t("dashboard.unavailable")}>
        {enrolled === false ? (
          <Notice>
            <p>{t(learnerId === session?.userId ? "dashboard.notEnrolled" : "dashboard.notYours")}</p>
          </Notice>
        ) : (
          <ErrorNotice error={error} onRetry={refetch} />
        )}
        <p>
          <Link to={paths.learning()}>{t("dashboard.backToLearning")}</Link>
        </p>
      </Page>
    );
  }
  const titles = new Map(dashboard.modules.map((m) => [m.moduleId, m.title]));
  const mastery = [...dashboard.mastery].sort(
    (a, b) =>
      (dashboard.modules.findIndex((m) => m.moduleId === a.moduleId) - dashboard.modules.findIndex((m) => m.moduleId === b.moduleId)) ||
      a.text.localeCompare(b.text),
  );
  const shownMastery = showAll ? mastery : mastery.slice(0, MASTERY_SHOWN);
  return (
    <Page
      title={t("dashboard.title", { course: dashboard.courseTitle })}
      lead={<Link to={paths.course(courseId)}>{t("dashboard.openCourse")}</Link>}
    >
      <div className="grid">
        <Section title={t("dashboard.progress")}>
          <ProgressBar
            value={dashboard.progress}
            label={t("course.progress")}
            detail={t("course.progressDetail", { done: dashboard.completedModuleCount, total: dashboard.modules.length })}
          />
          <NextStep dashboard={dashboard} onChanged={refetch} />
          <p className="muted">{summary(dashboard.preferences)}</p>
        </Section>
        <Section title={t("dashboard.recent")}>
          {dashboard.recentQuizResults.length ? (
            <ul className="results">
              {dashboard.recentQuizResults.map((r) => (
                <li key={r.attemptId}>
                  <span>{titles.get(r.moduleId) ?? ""}</span> <strong>{percent(r.score)}</strong>{" "}
                  <span className={r.passed ? "badge badge--success" : "badge badge--muted"}>
                    {t(r.passed ? "quiz.passed" : "quiz.notPassed")}
                  </span>{" "}
                  <span className="muted">{dateTime(r.submitTime)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <Empty title={t("dashboard.noResults")} />
          )}
        </Section>
      </div>
      <Section title={t("dashboard.modules")}>
        <TableScroll label={t("dashboard.modules")}>
        <table className="table">
          <caption className="sr-only">{t("dashboard.modules")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("dashboard.module")}</th>
              <th scope="col">{t("dashboard.status")}</th>
              <th scope="col">{t("dashboard.best")}</th>
              <th scope="col">{t("dashboard.attempts")}</th>
            </tr>
          </thead>
          <tbody>
            {dashboard.modules.map((m) => (
              <tr key={m.moduleId}>
                <th scope="row">
                  {m.status === "LOCKED" ? m.title : <Link to={paths.reader(courseId, m.moduleId)}>{m.title}</Link>}
                </th>
                <td>
                  <ModuleStatusBadge status={m.status} />
                </td>
                <td>{m.attemptCount ? percent(m.bestScore) : "–"}</td>
                <td>{m.attemptCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </TableScroll>
      </Section>
      <Section title={t("dashboard.mastery")}>
        {mastery.some((m) => m.answerCount > 0) ? (
          <>
            <p className="muted">{t("dashboard.masteryLead")}</p>
            <BarChart
              title={t("dashboard.masteryChart")}
              columns={[t("dashboard.objective"), t("dashboard.masteryColumn")]}
              bars={shownMastery.map((m) => ({
                key: m.objectiveId,
                label: m.text,
                group: titles.get(m.moduleId),
                value: m.answerCount ? m.pMastery : 0,
                strong: m.mastered,
                text: !m.answerCount
                  ? t("dashboard.notAssessed")
                  : m.mastered
                    ? t("dashboard.mastered", { value: percent(m.pMastery) })
                    : percent(m.pMastery),
              }))}
            />
            {mastery.length > shownMastery.length ? (
              <button type="button" className="button button--ghost" onClick={() => setShowAll(true)}>
                {t("dashboard.showAllObjectives", { count: mastery.length })}
              </button>
            ) : null}
          </>
        ) : (
          <Empty title={t("dashboard.noMastery")} />
        )}
      </Section>
    </Page>
  );
}

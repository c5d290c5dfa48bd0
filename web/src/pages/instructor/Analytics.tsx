import { useQuery } from "urql";
import { BarChart } from "../../components/Charts";
import { TableScroll } from "../../components/Table";
import { Section } from "../../components/Page";
import { Empty, ErrorNotice, Loading } from "../../components/Status";
import { CourseAnalyticsDocument, type CourseAnalyticsQuery } from "../../gql/graphql";
import { dateTime, percent, t } from "../../i18n";
import type { EditedCourse } from "./CourseEditor";

type Report = CourseAnalyticsQuery["courseAnalytics"];
type Row = Report["modules"][number];

const passRate = (m: Row) => (m.attemptCount ? m.passedAttemptCount / m.attemptCount : 0);

/** A CSV cell: quoted, and never read as a formula by a spreadsheet (a leading = + - @ is escaped). */
function cell(value: string | number): string {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function toCsv(rows: Row[]): string {
  const header = [
    t("analytics.module"),
    t("analytics.started"),
    t("analytics.completed"),
    t("analytics.completionRate"),
    t("analytics.attempts"),
    t("analytics.passedAttempts"),
    t("analytics.passRate"),
    t("analytics.averageScore"),
  ];
  const lines = rows.map((m) => [
    m.title,
    m.startedCount,
    m.completedCount,
    m.completionRate.toFixed(3),
    m.attemptCount,
    m.passedAttemptCount,
    passRate(m).toFixed(3),
    m.averageScore.toFixed(3),
  ]);
  return [header, ...lines].map((line) => line.map(cell).join(",")).join("\r\n") + "\r\n";
}

function CsvButton({ rows, title }: { rows: Row[]; title: string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${title.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").toLowerCase() || "course"}-analytics.csv`;
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <button type="button" className="button button--secondary" onClick={download}>
      {t("analytics.downloadCsv")}
    </button>
  );
}

export default function Analytics({ course }: { course: EditedCourse }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: CourseAnalyticsDocument, variables: { courseId: course.id } });
  if (!data && fetching) return <Loading />;
  if (!data) return <ErrorNotice error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />;
  const report = data.courseAnalytics;
  const titles = new Map(data.course.modules.map((m) => [m.id, m.title]));
  const maxBucket = Math.max(1, ...report.scoreDistribution.map((b) => b.count));
  return (
    <>
      <Section title={t("analytics.summary")}>
        <dl className="figures">
          <div>
            <dt>{t("analytics.enrollments")}</dt>
            <dd>{report.enrollmentCount}</dd>
          </div>
          <div>
            <dt>{t("analytics.active")}</dt>
            <dd>{report.activeEnrollmentCount}</dd>
          </div>
          <div>
            <dt>{t("analytics.attemptsTotal")}</dt>
            <dd>{report.modules.reduce((sum, m) => sum + m.attemptCount, 0)}</dd>
          </div>
        </dl>
        {!report.enrollmentCount ? <Empty title={t("analytics.noLearners")} /> : null}
      </Section>
      <Section title={t("analytics.modules")} actions={<CsvButton rows={report.modules} title={course.title} />}>
        <div className="grid">
          <BarChart
            title={t("analytics.completionChart")}
            columns={[t("analytics.module"), t("analytics.completionRate")]}
            bars={report.modules.map((m) => ({ key: m.moduleId, label: m.title, value: m.completionRate, text: percent(m.completionRate) }))}
          />
          <BarChart
            title={t("analytics.passChart")}
            columns={[t("analytics.module"), t("analytics.passRate")]}
            bars={report.modules.map((m) => ({
              key: m.moduleId,
              label: m.title,
              value: passRate(m),
              text: m.attemptCount ? t("analytics.passOf", { rate: percent(passRate(m)), passed: m.passedAttemptCount, attempts: m.attemptCount }) : "–",
            }))}
          />
        </div>
        <TableScroll label={t("analytics.tableCaption")}>
          <table className="table">
            <caption>{t("analytics.tableCaption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("analytics.module")}</th>
                <th scope="col">{t("analytics.started")}</th>
                <th scope="col">{t("analytics.completed")}</th>
                <th scope="col">{t("analytics.completionRate")}</th>
                <th scope="col">{t("analytics.attempts")}</th>
                <th scope="col">{t("analytics.passRate")}</th>
                <th scope="col">{t("analytics.averageScore")}</th>
              </tr>
            </thead>
            <tbody>
              {report.modules.map((m) => (
                <tr key={m.moduleId}>
                  <th scope="row">{m.title}</th>
                  <td>{m.startedCount}</td>
                  <td>{m.completedCount}</td>
                  <td>{percent(m.completionRate)}</td>
                  <td>{m.attemptCount}</td>
                  <td>{m.attemptCount ? percent(passRate(m)) : "–"}</td>
                  <td>{m.attemptCount ? percent(m.averageScore) : "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </Section>
      <Section title={t("analytics.scores")}>
        <BarChart
          title={t("analytics.scoreChart")}
          columns={[t("analytics.scoreRange"), t("analytics.attempts")]}
          bars={report.scoreDistribution.map((b) => ({
            key: `${b.lower}`,
            label: t("analytics.range", { lower: percent(b.lower), upper: percent(b.upper) }),
            value: b.count / maxBucket,
            text: String(b.count),
          }))}
        />
      </Section>
      <Section title={t("analytics.weakest")}>
        {report.weakestObjectives.length ? (
          <BarChart
            title={t("analytics.weakestChart")}
            columns={[t("analytics.objective"), t("analytics.correctRate")]}
            bars={report.weakestObjectives.map((o) => ({
              key: o.objectiveId,
              label: o.text,
              group: titles.get(o.moduleId),
              value: o.correctRate,
              text: t("analytics.correctOf", { rate: percent(o.correctRate), answers: o.answerCount }),
            }))}
          />
        ) : (
          <Empty title={t("analytics.noAnswers")} />
        )}
      </Section>
      <Section title={t("analytics.stuck")}>
        {report.stuckLearners.length ? (
          <TableScroll label={t("analytics.stuck")}>
            <table className="table">
              <caption className="sr-only">{t("analytics.stuck")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("analytics.learner")}</th>
                  <th scope="col">{t("analytics.module")}</th>
                  <th scope="col">{t("analytics.failedAttempts")}</th>
                  <th scope="col">{t("analytics.lastActivity")}</th>
                </tr>
              </thead>
              <tbody>
                {report.stuckLearners.map((s) => (
                  <tr key={`${s.learnerId}-${s.moduleId}`}>
                    <th scope="row">
                      <code>{s.learnerId.slice(0, 8)}</code>
                    </th>
                    <td>{titles.get(s.moduleId) ?? ""}</td>
                    <td>{s.failedAttempts}</td>
                    <td>{s.lastActivityTime ? dateTime(s.lastActivityTime) : t("analytics.never")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        ) : (
          <Empty title={t("analytics.noStuck")} />
        )}
      </Section>
    </>
  );
}

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useClient, useMutation, useQuery } from "urql";
import { hasReason } from "../../api/errors";
import { newId } from "../../api/ids";
import { RadioGroup } from "../../components/Form";
import { Page, Section } from "../../components/Page";
import { CitationChip, useSourceViewer } from "../../components/Sources";
import { Empty, ErrorNotice, Loading, Notice } from "../../components/Status";
import { TableScroll } from "../../components/Table";
import {
  CompleteModuleDocument,
  QuizAttemptsDocument,
  QuizDocument,
  SubmitQuizDocument,
  type QuizQuery,
  type SubmitQuizMutation,
} from "../../gql/graphql";
import { dateTime, percent, t } from "../../i18n";
import { paths } from "../../paths";
import { useDashboard } from "./learning";

type QuizData = QuizQuery["quiz"];
type Result = SubmitQuizMutation["submitQuiz"];

const LETTERS = "ABCDEFGH";

function History({ courseId, moduleId, version }: { courseId: string; moduleId: string; version: number }) {
  const [{ data, error }, refetch] = useQuery({ query: QuizAttemptsDocument, variables: { courseId, moduleId } });
  useEffect(() => {
    if (version) refetch({ requestPolicy: "network-only" });
  }, [version, refetch]);
  const attempts = data?.quizAttempts.edges.map((e) => e.node) ?? [];
  return (
    <Section title={t("quiz.history")}>
      {error ? <ErrorNotice error={error} /> : null}
      {!attempts.length ? (
        <Empty title={t("quiz.noAttempts")} />
      ) : (
        <TableScroll label={t("quiz.history")}>
        <table className="table">
          <caption className="sr-only">{t("quiz.history")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("quiz.when")}</th>
              <th scope="col">{t("quiz.score")}</th>
              <th scope="col">{t("quiz.correctAnswers")}</th>
              <th scope="col">{t("quiz.outcome")}</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={a.id}>
                <td>{dateTime(a.submitTime)}</td>
                <td>{percent(a.score)}</td>
                <td>{t("quiz.correctOf", { correct: a.correctCount, total: a.questionCount })}</td>
                <td>{t(a.passed ? "quiz.passed" : "quiz.notPassed")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </TableScroll>
      )}
    </Section>
  );
}

function Graded({ quiz, result, onOpen }: { quiz: QuizData; result: Result; onOpen: ReturnType<typeof useSourceViewer>["open"] }) {
  const graded = new Map(result.questions.map((q) => [q.questionId, q]));
  return (
    <ol className="questions">
      {quiz.questions.map((question, index) => {
        const grade = graded.get(question.id);
        if (!grade) return null;
        const chosen = question.options[grade.selectedIndex];
        const right = question.options[grade.correctIndex];
        return (
          <li key={question.id} className={grade.correct ? "question question--right" : "question question--wrong"}>
            <p className="question__text">
              <span className="sr-only">{t("quiz.questionNumber", { n: index + 1 })} </span>
              {question.text}
            </p>
            <p>
              <strong>{t(grade.correct ? "quiz.right" : "quiz.wrong")}</strong>{" "}
              {t("quiz.yourAnswer", { answer: chosen ?? t("quiz.noAnswer") })}
            </p>
            {!grade.correct && right ? <p>{t("quiz.correctAnswer", { answer: right })}</p> : null}
            {grade.explanation ? <p className="question__explanation">{grade.explanation}</p> : null}
            {grade.citations.length ? (
              <p className="question__sources">
                {t("quiz.sources")}{" "}
                {grade.citations.map((c, i) => (
                  <CitationChip key={`${c.chunkId}-${i}`} n={i + 1} citation={c} onOpen={onOpen} />
                ))}
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export default function QuizPage() {
  const { courseId = "", moduleId = "" } = useParams();
  const client = useClient();
  const navigate = useNavigate();
  const { dashboard, refetch: refetchDashboard } = useDashboard(courseId);
  const sources = useSourceViewer(courseId);
  const [quiz, setQuiz] = useState<QuizData | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [answers, setAnswers] = useState<Record<string, number>>({});
  const [missing, setMissing] = useState<string[]>([]);
  const [result, setResult] = useState<Result | null>(null);
  const [submitted, setSubmitted] = useState(0);
  const [submission, submit] = useMutation(SubmitQuizDocument);
  const [completion, complete] = useMutation(CompleteModuleDocument);
  const attemptId = useRef<string>("");
  const resultHeading = useRef<HTMLHeadingElement>(null);

  const load = useCallback(
    async (retake: boolean) => {
      setQuiz(null);
      setLoadError(null);
      setResult(null);
      setAnswers({});
      setMissing([]);
      const response = await client
        .query(QuizDocument, { courseId, moduleId, retake }, { requestPolicy: "network-only" })
        .toPromise();
      if (response.error || !response.data) setLoadError(response.error);
      else {
        attemptId.current = newId();
        setQuiz(response.data.quiz);
      }
    },
    [client, courseId, moduleId],
  );
  useEffect(() => {
    void load(false);
  }, [load]);
  useEffect(() => {
    if (result) resultHeading.current?.focus();
  }, [result]);

  const module = dashboard?.modules.find((m) => m.moduleId === moduleId);
  const title = module ? t("quiz.titleOf", { title: module.title }) : t("quiz.title");

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!quiz) return;
    const unanswered = quiz.questions.filter((q) => answers[q.id] === undefined).map((q) => q.id);
    setMissing(unanswered);
    if (unanswered.length) {
      document.getElementById(`q-${unanswered[0]}`)?.querySelector("input")?.focus();
      return;
    }
    const response = await submit({
      courseId,
      moduleId,
      quizId: quiz.id,
      attemptId: attemptId.current,
      answers: quiz.questions.map((q) => ({ questionId: q.id, selectedIndex: answers[q.id]! })),
    });
    if (response.data) {
      setResult(response.data.submitQuiz);
      setSubmitted((n) => n + 1);
      refetchDashboard();
    }
  };

  const finish = async () => {
    const response = await complete({ courseId, moduleId });
    if (response.data) {
      const next = response.data.completeModule.nextModuleId;
      navigate(next ? paths.reader(courseId, next) : paths.course(courseId));
    }
  };

  let body;
  if (loadError) {
    body = hasReason(loadError, "MODULE_LOCKED", "NOT_ENROLLED") ? (
      <ErrorNotice error={loadError} />
    ) : (
      <ErrorNotice error={loadError} onRetry={() => void load(false)} />
    );
  } else if (!quiz) {
    body = <Loading label={t("quiz.preparing")} />;
  } else if (result) {
    body = (
      <>
        <div className={result.passed ? "score score--passed" : "score"} role="status">
          <h2 ref={resultHeading} tabIndex={-1}>
            {t(result.passed ? "quiz.resultPassed" : "quiz.resultNotPassed")}
          </h2>
          <p>{t("quiz.scoreLine", { score: percent(result.score), pass: percent(result.passMark) })}</p>
        </div>
        <Graded quiz={quiz} result={result} onOpen={sources.open} />
        <div className="actions">
          {result.passed && module?.status !== "COMPLETED" ? (
            <button type="button" className="button" onClick={finish} disabled={completion.fetching}>
              {t("quiz.completeAndContinue")}
            </button>
          ) : null}
          <button type="button" className="button button--secondary" onClick={() => void load(true)}>
            {t("quiz.retake")}
          </button>
          <Link className="button button--ghost" to={paths.reader(courseId, moduleId)}>
            {t("quiz.backToModule")}
          </Link>
        </div>
        {completion.error ? <ErrorNotice error={completion.error} /> : null}
      </>
    );
  } else if (quiz.submitted) {
    body = (
      <Notice>
        <p>{t("quiz.alreadySubmitted")}</p>
        <button type="button" className="button" onClick={() => void load(true)}>
          {t("quiz.retake")}
        </button>
      </Notice>
    );
  } else {
    body = (
      <form onSubmit={send} className="quiz" noValidate>
        <p className="muted">{t("quiz.instructions", { count: quiz.questions.length, pass: percent(quiz.passMark) })}</p>
        <ol className="questions">
          {quiz.questions.map((question, index) => (
            <li key={question.id} id={`q-${question.id}`} className="question">
              <RadioGroup<string>
                legend={
                  <>
                    <span className="sr-only">{t("quiz.questionNumber", { n: index + 1 })} </span>
                    {question.text}
                  </>
                }
                name={`q-${question.id}`}
                value={answers[question.id] === undefined ? null : String(answers[question.id])}
                onChange={(value) => {
                  setAnswers({ ...answers, [question.id]: Number(value) });
                  setMissing(missing.filter((id) => id !== question.id));
                }}
                options={question.options.map((option, i) => ({
                  value: String(i),
                  label: (
                    <>
                      <span className="option__letter" aria-hidden="true">
                        {LETTERS[i]}
                      </span>
                      {option}
                    </>
                  ),
                }))}
              />
              {missing.includes(question.id) ? <p className="field__error">{t("quiz.answerThis")}</p> : null}
            </li>
          ))}
        </ol>
        {missing.length ? (
          <p className="field__error" role="alert">
            {t("quiz.missing", { count: missing.length })}
          </p>
        ) : null}
        {submission.error ? <ErrorNotice error={submission.error} /> : null}
        <button type="submit" className="button" disabled={submission.fetching}>
          {submission.fetching ? t("quiz.grading") : t("quiz.submit")}
        </button>
      </form>
    );
  }

  return (
    <Page title={title} lead={dashboard ? <Link to={paths.course(courseId)}>{dashboard.courseTitle}</Link> : null}>
      {body}
      <History courseId={courseId} moduleId={moduleId} version={submitted} />
      {sources.viewer}
    </Page>
  );
}

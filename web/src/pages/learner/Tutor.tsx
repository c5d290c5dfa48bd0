import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useClient, useQuery } from "urql";
import { isSessionRefused } from "../../api/errors";
import { newId } from "../../api/ids";
import { useSession } from "../../api/session";
import { startStream } from "../../api/stream";
import { SelectField, TextArea } from "../../components/Form";
import { Page } from "../../components/Page";
import { CitationChip, SourceList, useSourceViewer, type Citation } from "../../components/Sources";
import { ErrorNotice, Loading, Notice } from "../../components/Status";
import { TutorAnswerDocument, TutorHistoryDocument, type TutorMessageFieldsFragment } from "../../gql/graphql";
import { Markdown } from "../../markdown/Markdown";
import { dateTime, t } from "../../i18n";
import { paths } from "../../paths";
import { useDashboard } from "./learning";

type Message = TutorMessageFieldsFragment & { stopped?: boolean; streaming?: boolean };

const MAX_QUESTION = 2000;

function Bubble({ message, onOpen }: { message: Message; onOpen: ReturnType<typeof useSourceViewer>["open"] }) {
  const citations: Citation[] = message.citations;
  const chip = useCallback(
    (n: number, key: string) => {
      const citation = citations[n - 1];
      return citation ? <CitationChip key={key} n={n} citation={citation} onOpen={onOpen} /> : null;
    },
    [citations, onOpen],
  );
  const learner = message.role === "LEARNER";
  return (
    <li className={learner ? "bubble bubble--learner" : "bubble bubble--tutor"}>
      <p className="bubble__who">
        {t(learner ? "tutor.you" : "tutor.tutor")}
        {message.createTime ? <span className="muted"> · {dateTime(message.createTime)}</span> : null}
      </p>
      {learner ? (
        <p className="bubble__text">{message.text}</p>
      ) : (
        <div className="prose bubble__text">
          <Markdown source={message.text} renderCitation={message.streaming ? undefined : chip} headingIdPrefix={`m${message.id}-`} />
        </div>
      )}
      {message.stopped ? <p className="muted">{t("tutor.stopped")}</p> : null}
      {!learner && !message.streaming && !message.stopped && !message.grounded ? (
        <p className="badge badge--warning">{t("tutor.notGrounded")}</p>
      ) : null}
      {!learner && citations.length ? (
        <details className="bubble__sources">
          <summary>{t("tutor.sources", { count: citations.length })}</summary>
          <SourceList citations={citations} onOpen={onOpen} />
        </details>
      ) : null}
    </li>
  );
}

export default function Tutor() {
  const { courseId = "" } = useParams();
  const client = useClient();
  const { expire } = useSession();
  const { dashboard } = useDashboard(courseId);
  const sources = useSourceViewer(courseId);
  const [after, setAfter] = useState<string | null>(null);
  const [history, historyAgain] = useQuery({ query: TutorHistoryDocument, variables: { courseId, after } });
  const [older, setOlder] = useState<Message[]>([]);
  const [recent, setRecent] = useState<Message[]>([]);
  const [question, setQuestion] = useState("");
  const [moduleId, setModuleId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const stop = useRef<(() => void) | null>(null);
  const streamingId = useRef<string | null>(null);
  const logEnd = useRef<HTMLDivElement>(null);

  // Pages go back in time: each "earlier" page goes before what is shown.
  useEffect(() => {
    const page = history.data?.tutorHistory.edges.map((e) => e.node as Message) ?? [];
    setOlder((shown) => {
      const known = new Set(shown.map((m) => m.id));
      return [...page.filter((m) => !known.has(m.id)), ...shown];
    });
  }, [history.data]);
  useEffect(() => () => stop.current?.(), []);

  const streaming = recent.some((m) => m.streaming);
  const finish = (patch: Partial<Message>) => {
    const id = streamingId.current;
    setRecent((messages) => messages.map((m) => (m.id === id ? { ...m, ...patch, streaming: false } : m)));
    stop.current = null;
    streamingId.current = null;
  };

  const ask = (event: FormEvent) => {
    event.preventDefault();
    const text = question.trim();
    if (!text || streaming) return;
    setError(null);
    setStatus(t("tutor.thinking"));
    const answerId = newId();
    streamingId.current = answerId;
    const now = new Date().toISOString();
    setRecent((messages) => [
      ...messages,
      { id: newId(), role: "LEARNER", text, grounded: true, moduleId: moduleId || null, createTime: now, citations: [] },
      { id: answerId, role: "TUTOR", text: "", grounded: true, moduleId: null, createTime: null, citations: [], streaming: true },
    ]);
    setQuestion("");
    stop.current = startStream(client, TutorAnswerDocument, { courseId, question: text, moduleId: moduleId || null }, {
      next(data) {
        const event = data.tutorAnswer;
        if (event.message) {
          finish({ ...event.message, id: answerId });
          setStatus(t("tutor.answered"));
        } else if (event.textDelta) {
          const delta = event.textDelta;
          setRecent((messages) => messages.map((m) => (m.id === answerId ? { ...m, text: m.text + delta } : m)));
        }
      },
      error(failure) {
        if (isSessionRefused(failure)) expire();
        finish({ stopped: true });
        setError(failure);
        setStatus("");
      },
    });
    setTimeout(() => logEnd.current?.scrollIntoView({ block: "end" }), 0);
  };

  const halt = () => {
    stop.current?.();
    finish({ stopped: true });
    setStatus(t("tutor.stoppedStatus"));
  };

  const messages = [...older, ...recent];
  const pageInfo = history.data?.tutorHistory.pageInfo;
  return (
    <Page title={t("tutor.title")} lead={dashboard ? <Link to={paths.course(courseId)}>{dashboard.courseTitle}</Link> : null}>
      <Notice>
        <p>{t("tutor.generatedNotice")}</p>
        <p>{t("tutor.hintNotice")}</p>
      </Notice>
      {history.error && !history.data ? (
        <ErrorNotice error={history.error} onRetry={() => historyAgain({ requestPolicy: "network-only" })} />
      ) : null}
      {pageInfo?.hasNextPage ? (
        <button type="button" className="button button--ghost" onClick={() => setAfter(pageInfo.endCursor ?? null)} disabled={history.fetching}>
          {t("tutor.earlier")}
        </button>
      ) : null}
      {history.fetching && !messages.length ? <Loading label={t("tutor.loadingHistory")} /> : null}
      {!history.fetching && !messages.length && !history.error ? <p className="muted">{t("tutor.empty")}</p> : null}
      <ol className="chat" aria-label={t("tutor.conversation")}>
        {messages.map((message) => (
          <Bubble key={message.id} message={message} onOpen={sources.open} />
        ))}
      </ol>
      <div ref={logEnd} />
      <p className="sr-only" role="status">
        {status}
      </p>
      {error ? <ErrorNotice error={error} /> : null}
      <form className="ask" onSubmit={ask}>
        <TextArea
          label={t("tutor.question")}
          value={question}
          maxLength={MAX_QUESTION}
          rows={3}
          onChange={(e) => setQuestion(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask(e);
          }}
          hint={t("tutor.questionHint")}
        />
        {dashboard ? (
          <SelectField
            label={t("tutor.scope")}
            value={moduleId}
            onChange={(e) => setModuleId(e.target.value)}
            options={[
              { value: "", label: t("tutor.wholeCourse") },
              ...dashboard.modules.filter((m) => m.status !== "LOCKED").map((m) => ({ value: m.moduleId, label: m.title })),
            ]}
          />
        ) : null}
        <div className="actions">
          <button type="submit" className="button" disabled={streaming || !question.trim()}>
            {t("tutor.ask")}
          </button>
          {streaming ? (
            <button type="button" className="button button--secondary" onClick={halt}>
              {t("tutor.stop")}
            </button>
          ) : null}
        </div>
      </form>
      {sources.viewer}
    </Page>
  );
}

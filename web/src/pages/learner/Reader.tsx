import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useClient, useMutation } from "urql";
import { describe, hasReason, isSessionRefused } from "../../api/errors";
import { useSession } from "../../api/session";
import { startStream } from "../../api/stream";
import { RadioGroup } from "../../components/Form";
import { Page, Section } from "../../components/Page";
import { CitationChip, SourceList, useSourceViewer, type Citation } from "../../components/Sources";
import { ErrorNotice, Loading, Notice } from "../../components/Status";
import {
  CompleteModuleDocument,
  ModuleContentStreamDocument,
  SetPreferencesDocument,
  type DetailLevel,
  type ExplanationStyle,
  type LanguageLevel,
  type PreferenceFieldsFragment,
} from "../../gql/graphql";
import { Markdown } from "../../markdown/Markdown";
import { t } from "../../i18n";
import { paths } from "../../paths";
import { useDashboard } from "./learning";
import { DETAIL, LANGUAGE, STYLE, label, summary } from "./preferences";

interface Content {
  markdown: string;
  citations: Citation[];
  preferences: PreferenceFieldsFragment | null;
  done: boolean;
  error: unknown;
}

const EMPTY: Content = { markdown: "", citations: [], preferences: null, done: false, error: null };

/** The module's personalized content, streamed: deltas as they are generated, then the whole text. */
function useContent(courseId: string, moduleId: string, run: number): Content {
  const client = useClient();
  const { expire } = useSession();
  const [content, setContent] = useState<Content>(EMPTY);
  useEffect(() => {
    setContent(EMPTY);
    return startStream(client, ModuleContentStreamDocument, { courseId, moduleId }, {
      next(data) {
        const event = data.moduleContentStream;
        if (event.content) {
          const whole = event.content;
          setContent({ markdown: whole.markdown, citations: whole.citations, preferences: whole.preferences, done: true, error: null });
        } else if (event.markdownDelta) {
          const delta = event.markdownDelta;
          setContent((c) => ({ ...c, markdown: c.markdown + delta }));
        }
      },
      error(error) {
        if (isSessionRefused(error)) expire();
        setContent((c) => ({ ...c, done: true, error }));
      },
    });
  }, [client, courseId, moduleId, run, expire]);
  return content;
}

function PreferencesPanel({
  courseId,
  current,
  onChanged,
}: {
  courseId: string;
  current: PreferenceFieldsFragment;
  onChanged(): void;
}) {
  const [editing, setEditing] = useState(false);
  const [detail, setDetail] = useState<DetailLevel>(current.detailLevel);
  const [style, setStyle] = useState<ExplanationStyle>(current.explanationStyle);
  const [language, setLanguage] = useState<LanguageLevel>(current.language);
  const [saving, save] = useMutation(SetPreferencesDocument);
  useEffect(() => {
    setDetail(current.detailLevel);
    setStyle(current.explanationStyle);
    setLanguage(current.language);
  }, [current]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await save({ courseId, preferences: { detailLevel: detail, explanationStyle: style, language } });
    if (!result.error) {
      setEditing(false);
      onChanged();
    }
  };
  return (
    <aside className="prefs" aria-labelledby="prefs-title">
      <h2 id="prefs-title" className="prefs__title">
        {t("prefs.title")}
      </h2>
      <p>{summary(current)}</p>
      {editing ? (
        <form onSubmit={submit} className="prefs__form">
          <RadioGroup<DetailLevel> legend={t("prefs.detail")} name="detail" value={detail} onChange={setDetail}
            options={DETAIL.map((v) => ({ value: v, label: label("detail", v) }))} />
          <RadioGroup<ExplanationStyle> legend={t("prefs.style")} name="style" value={style} onChange={setStyle}
            options={STYLE.map((v) => ({ value: v, label: label("style", v) }))} />
          <RadioGroup<LanguageLevel> legend={t("prefs.language")} name="language" value={language} onChange={setLanguage}
            options={LANGUAGE.map((v) => ({ value: v, label: label("language", v) }))} />
          {saving.error ? <p className="field__error" role="alert">{describe(saving.error)}</p> : null}
          <div className="actions">
            <button type="submit" className="button" disabled={saving.fetching}>
              {t("prefs.apply")}
            </button>
            <button type="button" className="button button--ghost" onClick={() => setEditing(false)}>
              {t("action.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="button button--secondary" onClick={() => setEditing(true)}>
          {t("prefs.change")}
        </button>
      )}
    </aside>
  );
}

export default function Reader() {
  const { courseId = "", moduleId = "" } = useParams();
  const { session } = useSession();
  const [run, setRun] = useState(0);
  const content = useContent(courseId, moduleId, run);
  const { dashboard, refetch } = useDashboard(courseId);
  const sources = useSourceViewer(courseId);
  const [completion, complete] = useMutation(CompleteModuleDocument);
  const announced = useRef(false);
  const [announcement, setAnnouncement] = useState("");

  useEffect(() => {
    announced.current = false;
  }, [run, moduleId]);
  useEffect(() => {
    if (content.done && !content.error && !announced.current) {
      announced.current = true;
      setAnnouncement(t("reader.ready"));
    }
  }, [content.done, content.error]);

  const chip = useCallback(
    (n: number, key: string) => {
      const citation = content.citations[n - 1];
      return citation ? <CitationChip key={key} n={n} citation={citation} onOpen={sources.open} /> : null;
    },
    [content.citations, sources.open],
  );

  const modules = dashboard?.modules ?? [];
  const index = modules.findIndex((m) => m.moduleId === moduleId);
  const module = modules[index];
  const previous = index > 0 ? modules[index - 1] : undefined;
  const following = index >= 0 ? modules[index + 1] : undefined;
  const canComplete = dashboard?.nextStep?.kind === "COMPLETE_MODULE" && dashboard.nextStep.moduleId === moduleId;
  const title = module?.title ?? t("reader.title");

  if (hasReason(content.error, "MODULE_LOCKED", "NOT_ENROLLED", "MODULE_NOT_FOUND", "COURSE_NOT_FOUND")) {
    return (
      <Page title={title}>
        <ErrorNotice error={content.error} />
        <p>
          <Link to={paths.course(courseId)}>{t("reader.backToCourse")}</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page
      title={title}
      lead={dashboard ? <Link to={paths.course(courseId)}>{dashboard.courseTitle}</Link> : null}
      wide
    >
      <div className="reader">
        <div className="reader__main">
          <p className="sr-only" role="status">
            {content.done ? announcement : t("reader.writing")}
          </p>
          {!content.markdown && !content.done ? <Loading label={t("reader.preparing")} /> : null}
          <article className="prose" aria-busy={!content.done} aria-label={t("reader.articleLabel")}>
            <Markdown source={content.markdown} renderCitation={content.done ? chip : undefined} />
            {!content.done && content.markdown ? <span className="caret" aria-hidden="true" /> : null}
          </article>
          {content.error ? <ErrorNotice error={content.error} onRetry={() => setRun((n) => n + 1)} /> : null}
          {content.done && content.citations.length ? (
            <Section title={t("reader.sources")}>
              <SourceList citations={content.citations} onOpen={sources.open} />
            </Section>
          ) : null}
          {content.done && !content.error ? (
            <div className="reader__next">
              <Link className="button" to={paths.quiz(courseId, moduleId)}>
                {t("reader.takeQuiz")}
              </Link>
              {canComplete ? (
                <button
                  type="button"
                  className="button button--secondary"
                  disabled={completion.fetching}
                  onClick={async () => {
                    const result = await complete({ courseId, moduleId });
                    if (!result.error) refetch();
                  }}
                >
                  {t("reader.complete")}
                </button>
              ) : null}
              {completion.error ? <ErrorNotice error={completion.error} /> : null}
              {module?.status === "COMPLETED" ? <Notice tone="success">{t("reader.completed")}</Notice> : null}
            </div>
          ) : null}
          <nav className="pager" aria-label={t("reader.moduleNav")}>
            {previous ? (
              <Link to={paths.reader(courseId, previous.moduleId)}>{t("reader.previous", { title: previous.title })}</Link>
            ) : (
              <span />
            )}
            {following && following.status !== "LOCKED" ? (
              <Link to={paths.reader(courseId, following.moduleId)}>{t("reader.next", { title: following.title })}</Link>
            ) : null}
          </nav>
        </div>
        <div className="reader__side">
          {content.preferences && session ? (
            <PreferencesPanel courseId={courseId} current={content.preferences} onChanged={() => setRun((n) => n + 1)} />
          ) : null}
          <p>
            <Link to={paths.tutor(courseId)}>{t("reader.askTutor")}</Link>
          </p>
        </div>
      </div>
      {sources.viewer}
    </Page>
  );
}

import { useEffect, useState, type ReactNode } from "react";
import { ApiFailure, isSessionRefused } from "../api/errors";
import { fetchCourseFile } from "../api/http";
import { useSession } from "../api/session";
import { HtmlReader } from "../markdown/HtmlReader";
import { Markdown, slug } from "../markdown/Markdown";
import { t } from "../i18n";
import type { Citation } from "./Sources";
import { ErrorNotice, Loading } from "./Status";

const PREFIX = "source-";

type Loaded =
  | { kind: "pdf"; url: string }
  | { kind: "markdown" | "html" | "text"; text: string; url: string }
  | { kind: "other"; url: string };

async function load(courseId: string, citation: Citation, token: string | null, signal: AbortSignal): Promise<Loaded> {
  const { blob, mediaType } = await fetchCourseFile(courseId, citation.fileId, token, signal);
  const url = URL.createObjectURL(blob);
  if (mediaType === "application/pdf") return { kind: "pdf", url };
  if (mediaType === "text/markdown") return { kind: "markdown", text: await blob.text(), url };
  if (mediaType === "text/html") return { kind: "html", text: await blob.text(), url };
  if (mediaType.startsWith("text/")) return { kind: "text", text: await blob.text(), url };
  return { kind: "other", url };
}

/** The section a citation names last ("Chapter > Section" → "Section"). */
function section(citation: Citation): string {
  return citation.heading.split(">").pop()?.trim() ?? "";
}

export default function SourceBody({ courseId, citation }: { courseId: string; citation: Citation }) {
  const { session, expire } = useSession();
  const [state, setState] = useState<{ loaded?: Loaded; error?: unknown }>({});
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let url: string | undefined;
    setState({});
    load(courseId, citation, session?.token ?? null, controller.signal).then(
      (loaded) => {
        url = loaded.url;
        setState({ loaded });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiFailure && isSessionRefused(error)) expire();
        setState({ error });
      },
    );
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [courseId, citation, session?.token, expire, attempt]);

  const loaded = state.loaded;
  useEffect(() => {
    if (!loaded || (loaded.kind !== "markdown" && loaded.kind !== "html")) return;
    const target = document.getElementById(PREFIX + slug(section(citation)));
    const box = target?.closest(".source__document");
    if (!target || !box) return;
    // Scroll the file's own box only (scrollIntoView would scroll the dialog too, hiding its heading).
    box.scrollTop += target.getBoundingClientRect().top - box.getBoundingClientRect().top;
    target.classList.add("source__target");
  }, [loaded, citation]);

  if (state.error) return <ErrorNotice error={state.error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!loaded) return <Loading label={t("source.loading")} />;
  const label = t("source.documentLabel", { file: citation.fileName });
  let body: ReactNode;
  switch (loaded.kind) {
    case "pdf":
      body = <iframe className="source__pdf" src={`${loaded.url}#page=${citation.page || 1}`} title={t("source.pdfTitle", { file: citation.fileName })} />;
      break;
    case "markdown":
    case "html":
      body = (
        <article className="source__document prose" tabIndex={0} aria-label={label}>
          {loaded.kind === "markdown" ? (
            <Markdown source={loaded.text} headingIdPrefix={PREFIX} />
          ) : (
            <HtmlReader html={loaded.text} headingIdPrefix={PREFIX} />
          )}
        </article>
      );
      break;
    case "text":
      body = (
        <pre className="source__document" tabIndex={0} aria-label={label}>
          {loaded.text}
        </pre>
      );
      break;
    default:
      body = <p>{t("source.cannotShow")}</p>;
  }
  return (
    <>
      {body}
      <p>
        <a href={loaded.url} download={citation.fileName}>
          {t("source.download", { file: citation.fileName })}
        </a>
      </p>
    </>
  );
}

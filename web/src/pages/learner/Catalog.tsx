import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useClient, useQuery, type OperationResult } from "urql";
import { Page } from "../../components/Page";
import { Pager, useCursorPages } from "../../components/Pager";
import { Empty, ErrorNotice, Loading } from "../../components/Status";
import { CatalogDocument, type CatalogQuery } from "../../gql/graphql";
import { t, tn } from "../../i18n";

const PAGE_SIZE = 12;
// Search looks through this many courses at most (the API pages the catalog; it has no text search).
const SEARCH_PAGES = 10;
const SEARCH_PAGE_SIZE = 100;

type CourseCard = CatalogQuery["catalog"]["edges"][number]["node"];

function matches(course: CourseCard, words: string[]): boolean {
  const text = `${course.title} ${course.description}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

/** Every published course matching the words, read page by page. */
function useSearch(query: string) {
  const client = useClient();
  const [state, setState] = useState<{ courses: CourseCard[]; done: boolean; error: unknown; truncated: boolean }>({
    courses: [],
    done: false,
    error: null,
    truncated: false,
  });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!query) return;
    let cancelled = false;
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    setState({ courses: [], done: false, error: null, truncated: false });
    (async () => {
      const found: CourseCard[] = [];
      let after: string | null = null;
      for (let page = 0; page < SEARCH_PAGES; page++) {
        const result: OperationResult<CatalogQuery> = await client
          .query(CatalogDocument, { first: SEARCH_PAGE_SIZE, after }, { requestPolicy: "network-only" })
          .toPromise();
        if (cancelled) return;
        if (result.error || !result.data) {
          setState({ courses: found, done: true, error: result.error, truncated: false });
          return;
        }
        found.push(...result.data.catalog.edges.map((e) => e.node).filter((c) => matches(c, words)));
        const info = result.data.catalog.pageInfo;
        if (!info.hasNextPage) {
          setState({ courses: found, done: true, error: null, truncated: false });
          return;
        }
        after = info.endCursor ?? null;
      }
      setState({ courses: found, done: true, error: null, truncated: true });
    })();
    return () => {
      cancelled = true;
    };
  }, [client, query, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

function CourseList({ courses }: { courses: CourseCard[] }) {
  return (
    <ul className="cards" aria-label={t("catalog.listLabel")}>
      {courses.map((course) => (
        <li key={course.id} className="card">
          <h2 className="card__title">
            <Link to={`/courses/${course.id}`} state={{ title: course.title, description: course.description }}>
              {course.title}
            </Link>
          </h2>
          <p className="card__text">{course.description || t("catalog.noDescription")}</p>
          <p className="card__meta">{tn(course.modules.length, "catalog.modules.one", "catalog.modules.other")}</p>
        </li>
      ))}
    </ul>
  );
}

function Browse() {
  const pages = useCursorPages();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: CatalogDocument,
    variables: { first: PAGE_SIZE, after: pages.after },
  });
  if (!data && fetching) return <Loading label={t("catalog.loading")} />;
  if (error && !data) return <ErrorNotice error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />;
  const connection = data?.catalog;
  const courses = connection?.edges.map((e) => e.node) ?? [];
  if (!courses.length && pages.page === 1) return <Empty title={t("catalog.empty")} />;
  return (
    <>
      <CourseList courses={courses} />
      <Pager
        label={t("pager.page", { page: pages.page })}
        hasPrevious={pages.page > 1}
        hasNext={!!connection?.pageInfo.hasNextPage}
        onPrevious={pages.back}
        onNext={() => pages.forward(connection?.pageInfo.endCursor)}
      />
    </>
  );
}

function Results({ query }: { query: string }) {
  const search = useSearch(query);
  const [page, setPage] = useState(0);
  useEffect(() => setPage(0), [query]);
  if (!search.done) return <Loading label={t("catalog.searching")} />;
  if (search.error) return <ErrorNotice error={search.error} onRetry={search.retry} />;
  if (!search.courses.length) return <Empty title={t("catalog.noMatch", { query })} />;
  const pages = Math.ceil(search.courses.length / PAGE_SIZE);
  const shown = search.courses.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  return (
    <>
      <p role="status" className="muted">
        {tn(search.courses.length, "catalog.found.one", "catalog.found.other", { query })}
        {search.truncated ? ` ${t("catalog.truncated")}` : ""}
      </p>
      <CourseList courses={shown} />
      {pages > 1 ? (
        <Pager
          label={t("pager.pageOf", { page: page + 1, pages })}
          hasPrevious={page > 0}
          hasNext={page + 1 < pages}
          onPrevious={() => setPage(page - 1)}
          onNext={() => setPage(page + 1)}
        />
      ) : null}
    </>
  );
}

export function Catalog() {
  const [params, setParams] = useSearchParams();
  const query = (params.get("q") ?? "").trim();
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [query]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q = draft.trim();
    setParams(q ? { q } : {});
  };
  return (
    <Page title={t("catalog.title")} lead={t("catalog.lead")}>
      <form role="search" className="search" onSubmit={submit}>
        <label htmlFor="catalog-search">{t("catalog.searchLabel")}</label>
        <div className="search__row">
          <input
            id="catalog-search"
            type="search"
            value={draft}
            maxLength={200}
            onChange={(e) => setDraft(e.target.value)}
            placeholder={t("catalog.searchPlaceholder")}
          />
          <button type="submit" className="button">
            {t("catalog.search")}
          </button>
          {query ? (
            <button type="button" className="button button--ghost" onClick={() => setParams({})}>
              {t("catalog.clear")}
            </button>
          ) : null}
        </div>
      </form>
      {query ? <Results query={query} /> : <Browse />}
    </Page>
  );
}

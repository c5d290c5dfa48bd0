import { Suspense, useEffect, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useSession } from "../api/session";
import { t } from "../i18n";
import { Loading } from "./Status";

export function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online;
}

/** The server ended the session: to log-in, which brings the person back to where they were. */
function SessionWatcher() {
  const { expiredAt } = useSession();
  const navigate = useNavigate();
  useEffect(() => {
    if (expiredAt !== null) {
      navigate(`/login?expired=1&next=${encodeURIComponent(expiredAt)}`, { replace: true });
    }
  }, [expiredAt, navigate]);
  return null;
}

function Navigation() {
  const { session, signOut } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [location.pathname]);
  const leave = () => {
    signOut();
    navigate("/", { replace: true });
  };
  return (
    <nav className={open ? "nav nav--open" : "nav"} aria-label={t("nav.label")}>
      <button
        type="button"
        className="nav__toggle button button--ghost"
        aria-expanded={open}
        aria-controls="nav-links"
        onClick={() => setOpen(!open)}
      >
        {t("nav.menu")}
      </button>
      <ul id="nav-links" className="nav__links">
        <li>
          <NavLink to="/" end>
            {t("nav.catalog")}
          </NavLink>
        </li>
        {session?.role === "LEARNER" ? (
          <li>
            <NavLink to="/learning">{t("nav.learning")}</NavLink>
          </li>
        ) : null}
        {session?.role === "INSTRUCTOR" ? (
          <li>
            <NavLink to="/teach">{t("nav.teaching")}</NavLink>
          </li>
        ) : null}
        {session ? (
          <>
            <li className="nav__who" aria-label={t("nav.signedInAs", { name: session.name })}>
              {session.name}
            </li>
            <li>
              <button type="button" className="button button--ghost" onClick={leave}>
                {t("nav.signOut")}
              </button>
            </li>
          </>
        ) : (
          <>
            <li>
              <NavLink to="/login">{t("nav.logIn")}</NavLink>
            </li>
            <li>
              <NavLink to="/signup" className="button button--small">
                {t("nav.signUp")}
              </NavLink>
            </li>
          </>
        )}
      </ul>
    </nav>
  );
}

export function Layout() {
  const online = useOnline();
  return (
    <>
      <a className="skip-link" href="#main">
        {t("nav.skip")}
      </a>
      <header className="top">
        <div className="top__inner">
          <Link to="/" className="brand">
            <span className="brand__mark" aria-hidden="true" />
            {t("app.name")}
          </Link>
          <Navigation />
        </div>
      </header>
      {online ? null : (
        <div className="offline" role="status">
          {t("status.offline")}
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <SessionWatcher />
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="footer">
        <p>
          {t("footer.text")} <a href="/graphql">{t("footer.api")}</a>
        </p>
      </footer>
    </>
  );
}

import type { ReactNode } from "react";
import { Link, Navigate, useLocation } from "react-router";
import { useSession } from "../api/session";
import type { Role } from "../gql/graphql";
import { t } from "../i18n";
import { Page } from "./Page";

/** Pages for one role: anonymous visitors log in first (and come back); the other role is told why not. */
export function RequireSession({ role, children }: { role: Role; children: ReactNode }) {
  const { session, expiredAt } = useSession();
  const location = useLocation();
  if (!session && expiredAt !== null) return null; // the session just ended: the layout goes to log-in
  if (!session) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  if (session.role !== role) {
    return (
      <Page title={t(role === "LEARNER" ? "role.learnersOnly" : "role.instructorsOnly")}>
        <p>{t(role === "LEARNER" ? "role.learnersOnlyText" : "role.instructorsOnlyText")}</p>
        <p>
          <Link to={session.role === "INSTRUCTOR" ? "/teach" : "/learning"}>{t("role.goHome")}</Link>
        </p>
      </Page>
    );
  }
  return <>{children}</>;
}

// Log-in and sign-up share one form: the role, then the account fields.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { describe } from "../../api/errors";
import { useSession } from "../../api/session";
import { RadioGroup, TextField } from "../../components/Form";
import { Page } from "../../components/Page";
import { Notice } from "../../components/Status";
import { LogInDocument, SignUpDocument, type Role, type SessionUserFragment } from "../../gql/graphql";
import { t } from "../../i18n";

/** Only paths of this site: never an open redirect to another origin. */
export function safeNext(value: string | null): string | null {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : null;
}

// What browsers and password managers should offer in the password field.
const AUTOCOMPLETE = { logIn: "current-password", signUp: "new-password" } as const;

interface Payload {
  token: string;
  expiresAt?: string | null;
  role: Role;
  user: SessionUserFragment;
}

export function AccountForm({ mode }: { mode: "logIn" | "signUp" }) {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const expired = params.get("expired") === "1";
  const { signIn, clearExpired } = useSession();
  const navigate = useNavigate();
  const [role, setRole] = useState<Role>(params.get("role") === "INSTRUCTOR" ? "INSTRUCTOR" : "LEARNER");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [logIn, runLogIn] = useMutation(LogInDocument);
  const [signUp, runSignUp] = useMutation(SignUpDocument);
  const busy = logIn.fetching || signUp.fetching;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const result =
      mode === "logIn" ? await runLogIn({ role, email, password }) : await runSignUp({ role, email, password, name });
    const payload: Payload | undefined = result.data
      ? "logIn" in result.data
        ? result.data.logIn
        : result.data.signUp
      : undefined;
    if (result.error || !payload) {
      setError(describe(result.error));
      return;
    }
    signIn({
      token: payload.token,
      role: payload.role,
      userId: payload.user.id,
      name: payload.user.displayName,
      email: payload.user.email,
      expiresAt: payload.expiresAt ?? null,
    });
    clearExpired();
    navigate(next ?? (payload.role === "INSTRUCTOR" ? "/teach" : "/learning"), { replace: true });
  };

  const other = mode === "logIn" ? "/signup" : "/login";
  const otherLink = next ? `${other}?next=${encodeURIComponent(next)}` : other;
  return (
    <Page title={t(mode === "logIn" ? "account.logInTitle" : "account.signUpTitle")}>
      <form className="form form--narrow" onSubmit={submit} noValidate>
        {expired ? <Notice tone="warning">{t("account.expired")}</Notice> : null}
        <RadioGroup<Role>
          legend={t("account.role")}
          name="role"
          value={role}
          inline
          onChange={setRole}
          options={[
            { value: "LEARNER", label: t("account.roleLearner") },
            { value: "INSTRUCTOR", label: t("account.roleInstructor") },
          ]}
        />
        {mode === "signUp" ? (
          <TextField label={t("account.name")} value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" required maxLength={200} />
        ) : null}
        <TextField
          label={t("account.email")}
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoComplete="email"
          required
          maxLength={320}
        />
        <TextField
          label={t("account.password")}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete={AUTOCOMPLETE[mode]}
          hint={mode === "signUp" ? t("account.passwordHint") : undefined}
          required
          maxLength={256}
        />
        {error ? (
          <div className="notice notice--error" role="alert">
            <p>{error}</p>
          </div>
        ) : null}
        <button type="submit" className="button" disabled={busy}>
          {busy ? t("status.working") : t(mode === "logIn" ? "account.logIn" : "account.signUp")}
        </button>
        <p>
          {t(mode === "logIn" ? "account.noAccount" : "account.haveAccount")}{" "}
          <Link to={otherLink}>{t(mode === "logIn" ? "account.signUpLink" : "account.logInLink")}</Link>
        </p>
      </form>
    </Page>
  );
}

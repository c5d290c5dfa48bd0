// The signed-in user's session: the bearer token (kept in localStorage, shared by the tabs of this origin)
// and who it belongs to. Why the token lives in the page and not in a cookie: bff/portal.py and the README.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Role } from "../gql/graphql";

export interface Session {
  token: string;
  role: Role;
  userId: string;
  name: string;
  email: string;
  /** ISO time the token stops being accepted, when the server said. */
  expiresAt: string | null;
}

interface SessionState {
  session: Session | null;
  /** Where the user was when their session ended on its own; the log-in page sends them back there. */
  expiredAt: string | null;
  signIn(session: Session): void;
  signOut(): void;
  /** The server refused the token (expired or revoked): end the session and remember the page. */
  expire(): void;
  clearExpired(): void;
}

const STORAGE_KEY = "lmw.session";
const SessionContext = createContext<SessionState | null>(null);

function isSession(value: unknown): value is Session {
  if (!value || typeof value !== "object") return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.token === "string" &&
    (s.role === "LEARNER" || s.role === "INSTRUCTOR") &&
    typeof s.userId === "string" &&
    typeof s.name === "string" &&
    typeof s.email === "string"
  );
}

function load(): Session | null {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    return isSession(stored) ? stored : null;
  } catch {
    return null;
  }
}

function save(session: Session | null): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage may be unavailable (private mode, quota): the session then lasts as long as the page.
  }
}

function msUntil(expiresAt: string | null): number | null {
  if (!expiresAt) return null;
  const at = Date.parse(expiresAt);
  return Number.isNaN(at) ? null : at - Date.now();
}

export function currentPath(): string {
  return window.location.pathname + window.location.search + window.location.hash;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => {
    const stored = load();
    const left = stored ? msUntil(stored.expiresAt) : null;
    return left !== null && left <= 0 ? null : stored;
  });
  const [expiredAt, setExpiredAt] = useState<string | null>(null);
  const current = useRef(session);
  current.current = session;

  const signIn = useCallback((next: Session) => {
    save(next);
    setSession(next);
    setExpiredAt(null);
  }, []);
  const signOut = useCallback(() => {
    save(null);
    setSession(null);
  }, []);
  const expire = useCallback(() => {
    if (!current.current) return;
    save(null);
    setSession(null);
    setExpiredAt(currentPath());
  }, []);
  const clearExpired = useCallback(() => setExpiredAt(null), []);

  // Another tab signed in or out: follow it.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === STORAGE_KEY) setSession(load());
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  // The token runs out while the page is open: back to log-in, then back here.
  useEffect(() => {
    const left = session ? msUntil(session.expiresAt) : null;
    if (left === null) return;
    const timer = window.setTimeout(expire, Math.min(Math.max(left, 0), 2 ** 31 - 1));
    return () => window.clearTimeout(timer);
  }, [session, expire]);

  const value = useMemo(
    () => ({ session, expiredAt, signIn, signOut, expire, clearExpired }),
    [session, expiredAt, signIn, signOut, expire, clearExpired],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

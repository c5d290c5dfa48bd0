// The GraphQL client: urql over HTTP (queries as GET within the URL limit, mutations as POST) and graphql-ws
// for subscriptions, both carrying the session's bearer token. One client per session, so nothing cached
// for one user is ever shown to the next.
import { createClient as createSocket, type Client as SocketClient } from "graphql-ws";
import { useEffect, useMemo, type ReactNode } from "react";
import { Client, Provider, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { isSessionRefused } from "./errors";
import { useSession } from "./session";

export const GRAPHQL_PATH = "/graphql";

export function authHeaders(token: string | null | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function socketUrl(): string {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function build(token: string | null, onRefused: () => void): { client: Client; socket: SocketClient } {
  const socket = createSocket({
    url: socketUrl(),
    connectionParams: () => authHeaders(token),
    lazy: true,
    lazyCloseTimeout: 10_000,
    retryAttempts: 5,
  });
  const client = new Client({
    url: GRAPHQL_PATH,
    preferGetMethod: "within-url-limit",
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: authHeaders(token) }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (token && isSessionRefused(error)) onRefused();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              return { unsubscribe: socket.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
  });
  return { client, socket };
}

export function ApiProvider({ children }: { children: ReactNode }) {
  const { session, expire } = useSession();
  const token = session?.token ?? null;
  const { client, socket } = useMemo(() => build(token, expire), [token, expire]);
  useEffect(() => () => void socket.dispose(), [socket]);
  return <Provider value={client}>{children}</Provider>;
}

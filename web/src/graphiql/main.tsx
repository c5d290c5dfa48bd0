// The API explorer at GET /graphql: GraphiQL bundled with the portal, so it needs no CDN and runs under the
// BFF's Content-Security-Policy. Queries and mutations go over HTTP, subscriptions over graphql-ws.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./explorer.css";

const url = new URL("/graphql", window.location.href);
const socket = new URL(url);
socket.protocol = url.protocol === "https:" ? "wss:" : "ws:";

const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: socket.href });

const example = `# Welcome to the Learning Middleware API explorer.
# Press Ctrl+Enter (or the run button) to run the query. Sign in with the
# logIn mutation, then put its token in the Headers tab:
#   {"Authorization": "Bearer <token>"}

query Catalog {
  catalog(first: 5) {
    edges { node { id title description } }
  }
}
`;

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphiQL fetcher={fetcher} defaultQuery={example} />
    </StrictMode>,
  );
}

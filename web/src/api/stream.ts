// A subscription run by hand: started and stopped by the page (a tutor question, a module's content), each
// event handed over as it arrives. Stopping unsubscribes: the BFF then cancels the gRPC stream behind it.
import type { AnyVariables, Client, TypedDocumentNode } from "urql";

export interface StreamHandlers<D> {
  next(data: D): void;
  error(error: unknown): void;
}

export function startStream<D, V extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<D, V>,
  variables: V,
  handlers: StreamHandlers<D>,
): () => void {
  const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
    if (result.error) handlers.error(result.error);
    else if (result.data) handlers.next(result.data);
  });
  return unsubscribe;
}

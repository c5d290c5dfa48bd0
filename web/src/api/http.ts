// Requests made outside urql: file uploads (XMLHttpRequest, for upload progress) and course files (fetch).
// Both speak the API's error format and report a refused session like the GraphQL client does.
import { stringifyDocument, type TypedDocumentNode } from "urql";
import { ApiFailure, problemsOfBody, type Problem } from "./errors";
import { GRAPHQL_PATH, authHeaders } from "./client";

const NETWORK: Problem = { code: "NETWORK", reason: "NETWORK", message: "" };

function failure(status: number, body: unknown): ApiFailure {
  const problems = problemsOfBody(body);
  if (problems.length) return new ApiFailure(problems);
  const code = status === 401 ? "UNAUTHENTICATED" : status === 413 ? "BAD_USER_INPUT" : "INTERNAL";
  return new ApiFailure([{ code, reason: status === 413 ? "REQUEST_TOO_LARGE" : code, message: "" }]);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export interface UploadOptions<V> {
  document: TypedDocumentNode<unknown, V>;
  /** The variables, with `files` left out: the file goes in the multipart body. */
  variables: Omit<V, "files">;
  file: File;
  token: string | null;
  onProgress(sent: number, total: number): void;
  signal?: AbortSignal;
}

/** One file as a GraphQL multipart request (the spec urql's fetch exchange follows), with upload progress. */
export function uploadFile<R, V>(options: UploadOptions<V>): Promise<R> {
  const { document, variables, file, token, onProgress, signal } = options;
  const body = new FormData();
  body.append("operations", JSON.stringify({ query: stringifyDocument(document), variables: { ...variables, files: [null] } }));
  body.append("map", JSON.stringify({ 0: ["variables.files.0"] }));
  body.append("0", file, file.name);
  return new Promise<R>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", GRAPHQL_PATH);
    for (const [name, value] of Object.entries(authHeaders(token))) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onerror = () => reject(new ApiFailure([NETWORK]));
    request.onabort = () => reject(new DOMException("cancelled", "AbortError"));
    request.onload = () => {
      const parsed = parse(request.responseText) as { data?: R; errors?: unknown } | null;
      if (request.status === 200 && parsed?.data && !parsed.errors) resolve(parsed.data);
      else reject(failure(request.status, parsed));
    };
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(body);
  });
}

export interface CourseFileBlob {
  blob: Blob;
  mediaType: string;
}

/** A course file's bytes for the source viewer (the BFF asks instructor_svc, which decides who may read). */
export async function fetchCourseFile(
  courseId: string,
  fileId: string,
  token: string | null,
  signal?: AbortSignal,
): Promise<CourseFileBlob> {
  let response: Response;
  try {
    const path = `/api/course-files/${encodeURIComponent(courseId)}/${encodeURIComponent(fileId)}`;
    response = await fetch(path, { headers: authHeaders(token), signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiFailure([NETWORK]);
  }
  if (!response.ok) throw failure(response.status, parse(await response.text()));
  const mediaType = (response.headers.get("content-type") ?? "application/octet-stream").split(";")[0]!.trim();
  return { blob: await response.blob(), mediaType };
}

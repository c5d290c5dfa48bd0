// GraphQL for the tests' own set-up (accounts, a ready-made course), over plain fetch against the real BFF.
// The journeys under test go through the portal; this only prepares what they start from.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO } from "./mesh";

export const PASSWORD = "Portal-passw0rd!";
export const SAMPLE = join(REPO, "scripts", "sample_course");

export interface Account {
  role: "LEARNER" | "INSTRUCTOR";
  id: string;
  name: string;
  email: string;
  token: string;
  expiresAt: string | null;
}

export interface SeededCourse {
  id: string;
  title: string;
  moduleIds: string[];
  moduleTitles: string[];
  fileIds: string[];
  instructor: Account;
}

export class Api {
  constructor(readonly base: string) {}

  async gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    const response = await fetch(`${this.base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  async signUp(role: Account["role"], name: string): Promise<Account> {
    const email = `${role.toLowerCase()}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@e2e.example.org`;
    const data = await this.gql(
      `mutation($r: Role!, $e: String!, $p: String!, $n: String!) {
        signUp(role: $r, email: $e, password: $p, name: $n) { token expiresAt user { id displayName } } }`,
      { r: role, e: email, p: PASSWORD, n: name },
    );
    const s = data.signUp;
    return { role, id: s.user.id, name: s.user.displayName, email, token: s.token, expiresAt: s.expiresAt };
  }

  async upload(token: string, courseId: string, name: string, bytes: Buffer): Promise<{ fileId: string; jobId: string | null }> {
    const form = new FormData();
    const query = `mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { file { id } job { id } } }`;
    form.append("operations", JSON.stringify({ query, variables: { c: courseId, files: [null] } }));
    form.append("map", JSON.stringify({ 0: ["variables.files.0"] }));
    form.append("0", new Blob([new Uint8Array(bytes)]), name);
    const response = await fetch(`${this.base}/graphql`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as any;
    if (body.errors?.length) throw new Error(`upload failed: ${JSON.stringify(body.errors)}`);
    const result = body.data.uploadCourseFiles[0];
    return { fileId: result.file.id, jobId: result.job?.id ?? null };
  }

  async waitIndexed(token: string, courseId: string, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { indexingStatus: s } = await this.gql(
        `query($c: ID!) { indexingStatus(courseId: $c) { state failedFileCount } }`,
        { c: courseId },
        token,
      );
      if (s.failedFileCount) throw new Error(`indexing failed: ${JSON.stringify(s)}`);
      if (s.state === "READY") return;
      if (Date.now() > deadline) throw new Error(`not indexed within ${timeoutMs / 1000} s: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** A published course: one module per (title, files, objectives), objectives written by hand (fast). */
  async publishedCourse(
    instructor: Account,
    title: string,
    modules: { title: string; description?: string; files: { name: string; bytes: Buffer }[]; objectives: string[] }[],
    publish = true,
  ): Promise<SeededCourse> {
    const t = instructor.token;
    const { createCourse } = await this.gql(
      `mutation($t: String!, $d: String!) { createCourse(title: $t, description: $d) { id } }`,
      { t: title, d: `${title}: a course prepared for the browser tests.` },
      t,
    );
    const course: SeededCourse = { id: createCourse.id, title, moduleIds: [], moduleTitles: [], fileIds: [], instructor };
    for (const m of modules) {
      const { createModule } = await this.gql(
        `mutation($c: ID!, $t: String!, $d: String!) { createModule(courseId: $c, title: $t, description: $d, passMark: 0.6) { id } }`,
        { c: course.id, t: m.title, d: m.description ?? "" },
        t,
      );
      course.moduleIds.push(createModule.id);
      course.moduleTitles.push(m.title);
      for (const file of m.files) course.fileIds.push((await this.upload(t, course.id, file.name, file.bytes)).fileId);
    }
    await this.waitIndexed(t, course.id);
    for (const [i, m] of modules.entries()) {
      const { updateLearningObjectives: o } = await this.gql(
        `mutation($c: ID!, $m: ID!, $o: [LearningObjectiveInput!]!) {
          updateLearningObjectives(courseId: $c, moduleId: $m, objectives: $o) { version } }`,
        { c: course.id, m: course.moduleIds[i], o: m.objectives.map((text) => ({ text })) },
        t,
      );
      await this.gql(
        `mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }`,
        { c: course.id, m: course.moduleIds[i], v: o.version },
        t,
      );
    }
    if (publish) await this.gql(`mutation($c: ID!) { publishCourse(courseId: $c) { published } }`, { c: course.id }, t);
    return course;
  }

  async enroll(learner: Account, courseId: string): Promise<void> {
    await this.gql(`mutation($c: ID!) { enroll(courseId: $c) { state } }`, { c: courseId }, learner.token);
  }
}

export function sampleFile(name: string): { name: string; bytes: Buffer } {
  return { name: basename(name), bytes: readFileSync(join(SAMPLE, name)) };
}

/** The sample course's first two modules with hand-written objectives: quick to prepare. */
export function statisticsModules() {
  return [
    {
      title: "Describing Data",
      description: "Types of variables, measures of center and spread, and graphs of distributions.",
      files: [sampleFile("01-describing-data.md"), sampleFile("03-inference.pdf")],
      objectives: [
        "Choose between the mean and the median as a measure of center",
        "Explain how the standard deviation measures spread",
      ],
    },
    {
      title: "Probability Basics",
      description: "Sample spaces, events and the rules for combining probabilities.",
      files: [sampleFile("02-probability.md")],
      objectives: ["Explain what a conditional probability is", "Combine probabilities with the addition rule"],
    },
  ];
}

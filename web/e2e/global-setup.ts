// Once per run: the real mesh (unless PORTAL_URL names a running one) and a published course the learner
// tests start from. What the tests need is passed on in environment variables.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Api, statisticsModules } from "./api";
import { startMesh, stopMesh } from "./mesh";

export default async function globalSetup() {
  let stop = async () => {};
  if (!process.env.PORTAL_URL) {
    const mesh = await startMesh();
    process.env.PORTAL_URL = mesh.url;
    process.env.PORTAL_DATA_DIR = mesh.dataDir;
    stop = async () => {
      await stopMesh(mesh);
      rmSync(mesh.dataDir, { recursive: true, force: true });
    };
  }
  try {
    const api = new Api(process.env.PORTAL_URL);
    const instructor = await api.signUp("INSTRUCTOR", "Grace Seed");
    const course = await api.publishedCourse(instructor, `Statistics for browsers ${Date.now().toString(36)}`, statisticsModules());
    const file = join(process.env.PORTAL_DATA_DIR ?? tmpdir(), `lmw-portal-seed-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(course));
    process.env.PORTAL_SEED = file;
  } catch (error) {
    if (process.env.PORTAL_DATA_DIR) {
      const log = readFileSync(join(process.env.PORTAL_DATA_DIR, "mesh.log"), "utf8").split("\n").slice(-80).join("\n");
      console.error(`set-up failed; the end of the mesh's log:\n${log}`);
    }
    await stop();
    throw error;
  }
  return stop;
}

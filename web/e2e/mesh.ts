// The one place the browser tests start the system: the real mesh (embedded PostgreSQL and MongoDB-wire
// server, the four services, the BFF serving the built portal) on free ports in a throwaway data dir.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

/** The launcher's command line (point it at another launcher here, and only here). */
export function meshCommand(dataDir: string, ports: Record<"learner" | "instructor" | "orchestrator" | "sme" | "bff", number>): string[] {
  return [
    join(REPO, ".venv", "bin", "python"),
    "-m",
    "devkit",
    "up",
    "--data-dir",
    dataDir,
    "--learner-port",
    String(ports.learner),
    "--instructor-port",
    String(ports.instructor),
    "--orchestrator-port",
    String(ports.orchestrator),
    "--sme-port",
    String(ports.sme),
    "--bff-port",
    String(ports.bff),
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export interface RunningMesh {
  url: string;
  dataDir: string;
  log: string;
  process: ChildProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Start the mesh and wait (generously: the machine may be busy) until the launcher reports every service
 * ready (its health checks include sme_svc, which the BFF's /readyz does not ask) and the BFF serves the portal. */
export async function startMesh(readyTimeoutMs = 240_000): Promise<RunningMesh> {
  const dataDir = mkdtempSync(join(tmpdir(), "lmw-portal-e2e-"));
  chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as its own user and must reach the directory
  const ports = {
    learner: await freePort(),
    instructor: await freePort(),
    orchestrator: await freePort(),
    sme: await freePort(),
    bff: await freePort(),
  };
  const log = join(dataDir, "mesh.log");
  const out = openSync(log, "a");
  const [command, ...args] = meshCommand(join(dataDir, "data"), ports);
  const child = spawn(command!, args, {
    cwd: REPO,
    env: { ...process.env, LMW_LOG_LEVEL: process.env.LMW_LOG_LEVEL ?? "WARNING", NO_COLOR: "1" },
    stdio: ["ignore", out, out],
  });
  const url = `http://127.0.0.1:${ports.bff}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the mesh exited with code ${child.exitCode}:\n${tail(log)}`);
    if (readFileSync(log, "utf8").includes("all services ready")) {
      const page = await fetch(`${url}/`);
      if (page.ok && (await page.text()).includes('id="root"')) return { url, dataDir, log, process: child };
      throw new Error(`the BFF does not serve the built portal at ${url}/ (run \`make web\`)`);
    }
    await sleep(250);
  }
  child.kill("SIGTERM");
  throw new Error(`the mesh was not ready within ${readyTimeoutMs / 1000} s:\n${tail(log)}`);
}

/** SIGTERM: the launcher stops the services, then the databases; wait for it, then make sure. */
export async function stopMesh(mesh: RunningMesh, timeoutMs = 90_000): Promise<void> {
  if (mesh.process.exitCode !== null) return;
  const exited = new Promise<void>((done) => mesh.process.once("exit", () => done()));
  mesh.process.kill("SIGTERM");
  await Promise.race([exited, sleep(timeoutMs)]);
  if (mesh.process.exitCode === null) mesh.process.kill("SIGKILL");
}

"""The developer's kit: everything that runs the system locally and drives it in tests and benchmarks
(dev/test only; never in a service image, never in the runtime packages).

- topology: the services' wiring, written once (ports, environment, who calls whom)
- launcher: the local launcher and supervisor of the services as processes (`python -m devkit up|demo`)
- logs: the launcher's output and the services' log lines in human form
- databases: embedded PostgreSQL and a MongoDB-wire server for local runs and tests
- graphql: a GraphQL client of the BFF (HTTP, multipart uploads, graphql-transport-ws)
- demo: the demo scenario, walked through GraphQL only
- inprocess: the four services in-process on port 0, for integration tests and the RPC fuzzer
- graphql_checks, fuzzing, soak: what the GraphQL tests, the fuzzers and the soak share with their scripts
- chart: the Helm chart rendered in-process, and its values schema generated from values.yaml

scripts/ and tests/ both import this package, never each other.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_COURSE = ROOT / "scripts" / "sample_course"  # the demo's course: Markdown, HTML and PDF materials
PASSWORD = "Correct-horse-9"  # of every throwaway account that tests, fuzzers and the soak sign up

"""Export the BFF's GraphQL schema to web/schema.graphql, the file the portal's typed documents are generated
from (`npm run codegen` in web/), so no server runs while the portal builds.

`--check` exits 1 when the committed file differs from the schema the BFF serves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bff.config import BffSettings
from bff.schema import build_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "web" / "schema.graphql"
OFFLINE = {
    "learner_target": "127.0.0.1:9",
    "instructor_target": "127.0.0.1:9",
    "orchestrator_target": "127.0.0.1:9",
}


def sdl() -> str:
    # What `strawberry export-schema` writes; the settings only shape limits, never the schema's text.
    return build_schema(BffSettings(**OFFLINE)).as_str() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when web/schema.graphql is stale")
    args = parser.parse_args()
    current = sdl()
    if args.check:
        if not SCHEMA_FILE.is_file() or SCHEMA_FILE.read_text() != current:
            print("web/schema.graphql is stale: run `make web-schema` and commit the result", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(current)
    print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m scripts.mesh up|demo`: the old name of `python -m devkit up|demo`, kept for its callers."""

import sys

from devkit.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

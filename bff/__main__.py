"""`python -m bff`: serve the GraphQL BFF with uvicorn (BFF_WORKERS processes, 1 by default)."""

from __future__ import annotations

from typing import Any

import uvicorn

from bff.config import BffSettings
from lmw_common.logs import configure_logging


def server_options(settings: BffSettings) -> dict[str, Any]:
    """uvicorn's settings for the BFF (the serving benchmark serves its baselines with the same ones)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "log_config": None,  # keep our JSON logging
        "access_log": False,  # RequestMiddleware logs each request with its request id
        "timeout_graceful_shutdown": int(settings.shutdown_grace_s),
        "ws_max_size": 1024 * 1024,
    }


def main() -> None:
    settings = BffSettings()
    configure_logging("bff", settings.common.log_level)
    uvicorn.run("bff.app:create_app_from_env", factory=True, **server_options(settings))


if __name__ == "__main__":
    main()

"""argon2id password hashing, run off the event loop (it is deliberately slow)."""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Checked when an account is unknown, so a log-in takes as long whether or not the e-mail exists.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
# Each hash holds argon2's 64 MiB while it runs: a pool as wide as the CPUs bounds memory under a burst of
# log-ins (asyncio's default pool would run up to 32 at once) and loses no throughput.
_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")


async def _run(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_pool, function, *args)


async def hash_password(password: str) -> str:
    return await _run(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a wrong password or a missing hash (None), in the same time."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _run(check)

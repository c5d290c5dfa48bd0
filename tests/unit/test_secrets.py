"""Secrets and their defaults: none in the repository, tokens that expire, logs without passwords or tokens.

1. The repository (tracked files and untracked ones git would pick up; not .venv*, .git or the generated
   lmw/ stubs) holds no private key, cloud or API key, JWT, or literal password/secret assignment, except
   the test fixtures and throwaway local accounts allowlisted below, each explicitly.
2. Access tokens expire: an expired token is refused with UNAUTHENTICATED / TOKEN_EXPIRED, also after it
   was verified (and cached) while it was valid, and by a running service.
3. learner_svc at LMW_LOG_LEVEL=DEBUG: sign-up, log-in, a failed log-in, a refused sign-up and calls with
   bad tokens write JSON log lines, none of which holds the password or any token.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest

from lmw_common.auth import TokenService
from lmw_common.errors import Unauthenticated, from_rpc_error

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_DIRS = (".venv", ".git/", "lmw/")
MAX_SCANNED_BYTES = 2_000_000

PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws_?secret_?access_?key\W{0,3}[:=]\s*[\"']?[A-Za-z0-9/+]{40}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "OpenAI-style key": re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
}
# `password = "..."`, `secret: '...'`, `api_key="..."`, `PASSWORD = "..."` with a literal value.
ASSIGNMENT = re.compile(
    r"""(?ix)
    \b(?P<key>[\w.-]*?(?:password|passwd|secret|api_?key|access_?key|private_?key|auth_?token
                        |access_?token|client_?secret|credentials?))\b
    ["']?\s*(?::|=|:=)\s*[rbuf]?(?P<quote>["'])(?P<value>[^"'\n]{4,})(?P=quote)
    """
)
PLACEHOLDER = re.compile(
    r"^(?:<[^>]*>|\$\{?[\w.-]+\}?|\{\{.*\}\}|\*+|x+|\.\.\.|changeme|change-me|example\w*)$", re.I
)
# Keys that name a secret rather than hold one (Kubernetes references, setting names).
NAMING_KEYS = re.compile(
    r"(?i)(?:secret_?name|secret_?ref|secret_?key_?ref|existing_?secret|_env|_file|_path)$"
)

# Literal values allowed in tests/ only: fixture passwords of throwaway accounts and fixture secrets.
TEST_FIXTURE_VALUES = frozenset(
    {
        "Correct-horse-9",  # the test accounts' password (devkit.PASSWORD, and tests that log in)
        "Wrong-pass-99",  # a wrong password, for failing log-ins
        "short",  # a password refused as too short
        "test-secret-",  # prefix of the per-session random JWT secret (tests/conftest.py)
        "drop me",  # text content of a parsing fixture, not a secret
    }
)
# Outside tests/: each entry (path, key) with the reason it is no secret.
ALLOWED_ASSIGNMENTS = {
    ("devkit/demo.py", "DEMO_PASSWORD"): "the demo learner/instructor of a local dev mesh",
    ("devkit/__init__.py", "PASSWORD"): "throwaway accounts of test, fuzz and soak meshes",
    ("scripts/bench/serving.py", "PASSWORD"): "throwaway accounts of a local benchmark mesh",
    ("scripts/bench/portal.py", "PASSWORD"): "throwaway accounts of the portal benchmark's mesh",
    ("web/e2e/api.ts", "PASSWORD"): "throwaway accounts of the browser tests' mesh",
    ("web/src/i18n/en.ts", "account.password"): "a message key: the password field's label",
    ("web/src/i18n/en.ts", "error.reason.WEAK_PASSWORD"): "a message key: a refused password's sentence",
    ("web/package-lock.json", "password"): "an npm package named @inquirer/password, and its version range",
}


def repository_files() -> list[Path]:
    """Tracked files plus untracked ones that are not ignored (what a commit could contain)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    paths = []
    for name in sorted(set(filter(None, listed.split("\0")))):
        if name.startswith(EXCLUDED_DIRS):
            continue
        path = ROOT / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SCANNED_BYTES:
            paths.append(path)
    return paths


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def findings(path: Path, text: str) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    found = []
    for what, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{relative}:{line}: {what}: {match.group(0)[:60]}")
    for match in ASSIGNMENT.finditer(text):
        key, value = match.group("key"), match.group("value")
        if PLACEHOLDER.match(value.strip()) or NAMING_KEYS.search(key):
            continue
        if relative.startswith("tests/") and value in TEST_FIXTURE_VALUES:
            continue
        if (relative, key) in ALLOWED_ASSIGNMENTS:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(f"{relative}:{line}: literal {key} = {value[:4]}...")
    return found


def test_the_scanner_finds_what_it_looks_for():
    # built at run time, so that this file holds none of them literally
    key = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE\n"
    jwt = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiJ4In0" + "." + "c2lnbmF0dXJlX2hlcmU"
    aws = "AKIA" + "ABCDEFGHIJKLMNOP"
    assignment = "db_pass" + 'word = "hunter2hunter2"\n'
    sample = ROOT / "app.py"
    assert len(findings(sample, key + jwt + "\n" + aws + "\n" + assignment)) == 4
    assert findings(sample, 'password = "<your password>"\nsecretName: "tls-cert"\n') == []
    assert findings(ROOT / "tests" / "x.py", 'PASSWORD = "Correct-horse-9"\n') == []
    assert findings(ROOT / "src" / "x.py", 'PASSWORD = "Correct-horse-9"\n') != []  # fixtures stay in tests


def test_no_secret_in_the_repository():
    files = repository_files()
    assert len(files) > 50  # the scan saw the repository
    problems = []
    for path in files:
        text = text_of(path)
        if text is not None:
            problems.extend(findings(path, text))
    assert not problems, (
        "secrets (or secret-looking literals) in the repository; remove them, or, for a fixture, "
        "allowlist it explicitly in tests/unit/test_secrets.py:\n" + "\n".join(problems)
    )


def test_allowlist_has_no_stale_entries():
    for relative, key in ALLOWED_ASSIGNMENTS:
        path = ROOT / relative
        if path.exists():  # an entry whose file went away is no leak
            assert re.search(rf"\b{re.escape(key)}\b", path.read_text()), (relative, key)


# ------------------------------------------------------------------------------------------------ expiry


@pytest.fixture
def issuer(common_settings) -> TokenService:
    return TokenService(
        common_settings.signing_secret(), common_settings.jwt_issuer, common_settings.jwt_audience
    )


def wait_past(expires_at: float) -> None:
    time.sleep(max(0.0, expires_at - time.time()) + 1.05)  # exp has whole seconds; PyJWT's leeway is 0


def test_tokens_expire_even_once_verified_and_cached(issuer):
    token, expires_at = issuer.issue("learner-1", "learner", 1)
    assert expires_at - time.time() <= 1.0
    assert issuer.verify(token).subject == "learner-1"  # valid now: verified and cached
    wait_past(expires_at)
    with pytest.raises(Unauthenticated) as err:
        issuer.verify(token)
    assert err.value.reason == "TOKEN_EXPIRED"
    already, _ = issuer.issue("learner-1", "learner", -60)
    with pytest.raises(Unauthenticated) as err:
        issuer.verify(already)
    assert err.value.reason == "TOKEN_EXPIRED"


def test_other_issuers_audiences_and_secrets_are_refused(issuer, common_settings):
    for other in (
        TokenService(
            "another-secret-" + uuid.uuid4().hex, common_settings.jwt_issuer, common_settings.jwt_audience
        ),
        TokenService(common_settings.signing_secret(), "someone-else", common_settings.jwt_audience),
        TokenService(common_settings.signing_secret(), common_settings.jwt_issuer, "another-audience"),
    ):
        token, _ = other.issue("learner-1", "learner", 60)
        with pytest.raises(Unauthenticated) as err:
            issuer.verify(token)
        assert err.value.reason == "TOKEN_INVALID"


# -------------------------------------------------------------------------------------------------- logs


class Captured(logging.Handler):
    """Every log record, formatted as the services write it (one JSON line each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        from lmw_common.logs import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs(monkeypatch):
    """LMW_LOG_LEVEL=DEBUG, the services' logging set up from it, and a capture of every line."""
    from lmw_common.config import LmwSettings
    from lmw_common.logs import configure_logging

    monkeypatch.setenv("LMW_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LMW_ENV", "dev")
    monkeypatch.setenv("LMW_JWT_SECRET", "log-test-" + uuid.uuid4().hex)
    common = LmwSettings()
    assert common.log_level.upper() == "DEBUG"
    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict},
    )
    configure_logging("learner_svc", common.log_level)
    capture = Captured()
    root.addHandler(capture)
    # stricter than the services: their chatty libraries at DEBUG too (gRPC, connection pools, the driver).
    # Not SQLAlchemy's statement echo: it would print the stored password hash, by definition.
    for noisy in ("grpc", "sqlalchemy.pool", "psycopg", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG)
    try:
        yield common, capture
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


async def test_logs_never_hold_passwords_or_tokens(debug_logs, pg_url):
    from devkit.databases import free_port
    from learner_svc.bootstrap import bootstrap
    from learner_svc.config import LearnerSettings
    from lmw.learner.v1 import learner_service_pb2 as pb
    from lmw.learner.v1 import learner_service_pb2_grpc as pb_grpc
    from lmw_common.runtime import serving

    common, capture = debug_logs
    pw = "Log-Secret-" + uuid.uuid4().hex[:12]
    wrong = "Not-The-Password-" + uuid.uuid4().hex[:8]
    weak = "weakpw" + uuid.uuid4().hex[:2]
    email = f"logs-{uuid.uuid4().hex[:8]}@example.org"
    settings = LearnerSettings(
        common=common,
        database_url=pg_url,
        port=0,
        host="127.0.0.1",
        instructor_target=f"127.0.0.1:{free_port()}",
        shutdown_grace_s=0,
    )
    issued: list[str] = []
    async with (
        serving("learner_svc", settings, bootstrap) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = pb_grpc.LearnerServiceStub(channel)
        signed = await stub.SignUp(pb.SignUpRequest(email=email, password=pw, display_name="Logs"))
        issued.append(signed.access_token.token)
        logged = await stub.LogIn(pb.LogInRequest(email=email, password=pw))
        issued.append(logged.access_token.token)
        me = await stub.GetMe(pb.GetMeRequest(), metadata=[("authorization", f"Bearer {issued[1]}")])
        assert me.learner.email == email

        async def refused(call, code):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call
            assert err.value.code() == code
            return from_rpc_error(err.value).reason

        unauthenticated = grpc.StatusCode.UNAUTHENTICATED
        assert await refused(stub.LogIn(pb.LogInRequest(email=email, password=wrong)), unauthenticated) == (
            "BAD_CREDENTIALS"
        )
        again = f"other-{uuid.uuid4().hex[:6]}@example.org"
        assert await refused(
            stub.SignUp(pb.SignUpRequest(email=again, password=weak, display_name="W")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ) in ("WEAK_PASSWORD", "INVALID_PASSWORD")
        assert (
            await refused(
                stub.SignUp(pb.SignUpRequest(email=email, password=pw, display_name="Twice")),
                grpc.StatusCode.ALREADY_EXISTS,
            )
            == "EMAIL_TAKEN"
        )
        # tokens that are refused must not be logged either
        issuer = TokenService(common.signing_secret(), common.jwt_issuer, common.jwt_audience)
        expired, _ = issuer.issue("someone", "learner", -5)
        forged = issued[1][:-4] + ("AAAA" if not issued[1].endswith("AAAA") else "BBBB")
        issued += [expired, forged]
        assert (
            await refused(
                stub.GetMe(pb.GetMeRequest(), metadata=[("authorization", f"Bearer {expired}")]),
                unauthenticated,
            )
            == "TOKEN_EXPIRED"
        )
        assert (
            await refused(
                stub.GetMe(pb.GetMeRequest(), metadata=[("authorization", f"Bearer {forged}")]),
                unauthenticated,
            )
            == "TOKEN_INVALID"
        )

    lines = capture.lines
    assert len(lines) >= 5, lines  # DEBUG logging was on and the service logged
    for line in lines:
        json.loads(line)  # every line is one JSON object
    secrets = {"password": pw, "wrong password": wrong, "weak password": weak}
    secrets |= {f"token {i}": token for i, token in enumerate(issued)}
    # signatures alone are secrets too (header and claims are not)
    secrets |= {f"token {i} signature": token.rsplit(".", 1)[1] for i, token in enumerate(issued)}
    secrets["a password hash"] = "$argon2"
    leaks = [f"{what} in: {line[:200]}" for line in lines for what, value in secrets.items() if value in line]
    assert not leaks, "\n".join(leaks)

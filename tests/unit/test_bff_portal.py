"""The BFF serves the built portal (bff/portal.py) from a build directory: hashed assets cached for a year,
HTML revalidated, client routes falling back to index.html, gzip twins, a strict CSP, nothing outside the
directory, and GraphiQL from the same build at GET /graphql."""

from __future__ import annotations

import gzip

import pytest
from starlette.testclient import TestClient

from bff.app import create_app
from bff.config import BffSettings
from bff.portal import EXPLORER_CSP, PORTAL_CSP

OFFLINE = {
    "learner_target": "127.0.0.1:9",
    "instructor_target": "127.0.0.1:9",
    "orchestrator_target": "127.0.0.1:9",
}
INDEX = b'<!doctype html><html lang="en"><title>Portal</title><script type="module" src="/assets/index-abc123.js"></script></html>'
SCRIPT = b"console.log('portal');" * 50


@pytest.fixture
def dist(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "graphiql.html").write_bytes(b"<!doctype html><title>GraphiQL</title><div id=graphiql></div>")
    (root / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (root / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (root / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the portal")
    return root


def client_for(portal_dir, **overrides) -> TestClient:
    return TestClient(create_app(BffSettings(**OFFLINE, portal_dir=str(portal_dir), **overrides)))


def test_hashed_assets_are_immutable_and_gzipped_when_accepted(dist):
    with client_for(dist) as client:
        plain = client.get("/assets/index-abc123.js", headers={"accept-encoding": "identity"})
        assert plain.status_code == 200 and plain.content == SCRIPT
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["content-type"].startswith("text/javascript")
        assert "content-encoding" not in plain.headers
        zipped = client.get("/assets/index-abc123.js", headers={"accept-encoding": "gzip, br"})
        assert zipped.headers["content-encoding"] == "gzip" and zipped.content == SCRIPT  # httpx decodes
        assert zipped.headers["vary"] == "accept-encoding"
        assert client.get("/favicon.svg").headers["cache-control"] == "public, max-age=3600"


def test_index_is_revalidated_with_its_etag_and_carries_the_strict_csp(dist):
    with client_for(dist) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.content == INDEX
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-security-policy"] == PORTAL_CSP
        assert "script-src 'self';" in PORTAL_CSP and "unsafe-inline" not in PORTAL_CSP
        assert "require-trusted-types-for 'script'" in PORTAL_CSP and "frame-ancestors 'none'" in PORTAL_CSP
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        again = client.get("/", headers={"if-none-match": page.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert client.head("/").status_code == 200
        assert client.post("/").status_code == 405


@pytest.mark.parametrize("route", ["/courses/abc", "/teach/courses/abc/materials", "/login", "/learning"])
def test_client_routes_fall_back_to_index(dist, route):
    with client_for(dist) as client:
        page = client.get(route)
        assert page.status_code == 200 and page.content == INDEX
        assert page.headers["content-security-policy"] == PORTAL_CSP


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing-123.js",
        "/robots.txt",
        "/api/unknown",
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/.hidden",
        "/graphiql.html",
    ],
)
def test_missing_files_and_paths_outside_the_portal_are_not_found(dist, path):
    with client_for(dist) as client:
        response = client.get(path)
        assert b"outside the portal" not in response.content
        assert response.status_code in (404, 200)
        if response.status_code == 200:  # a path the router normalized into a client route
            assert response.content == INDEX


def test_graphiql_comes_from_the_build_and_graphql_get_still_answers_queries(dist):
    with client_for(dist) as client:
        explorer = client.get("/graphql", headers={"accept": "text/html"})
        assert explorer.status_code == 200 and b"GraphiQL" in explorer.content
        assert explorer.headers["content-security-policy"] == EXPLORER_CSP
        assert "script-src 'self';" in EXPLORER_CSP
        query = client.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "text/html"})
        assert query.json() == {"data": {"__typename": "Query"}}
    with client_for(dist, graphiql=False) as client:
        assert b"GraphiQL" not in client.get("/graphql", headers={"accept": "text/html"}).content


def test_an_unbuilt_portal_says_how_to_build_it(tmp_path):
    with client_for(tmp_path / "nothing-here") as client:
        page = client.get("/courses/abc")
        assert page.status_code == 503 and b"make web" in page.content
        assert b"make web" in client.get("/graphql", headers={"accept": "text/html"}).content
    with client_for("") as client:
        assert client.get("/").status_code == 503

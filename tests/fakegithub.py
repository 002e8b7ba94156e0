"""A stateful fake of GitHub's REST API on 127.0.0.1, checked against GitHub's OpenAPI description.

Every request is validated against the operations of GitHub's published OpenAPI description
(path and method, path and query parameters, the JSON body); a request that does not match is
answered 422 and recorded in `server.violations`. The fake's own answers are validated against
the documented response schemas too, so the bodies the client reads are the shape GitHub sends.

Faults are scripted per (method, path regex): `server.script("POST", r"/statuses/", Answer(502))`;
`Answer.lost()` does the request's work before failing (a write whose answer never arrived), and
`after=N` lets N matching requests through first.
Every request received is in `server.requests`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
TRIM_VERSION = "8"  # bump when OPERATIONS or the trimming changes
API_VERSIONS = ("2022-11-28",)
DOCS = "https://docs.github.com/rest"

# (method, path template) of every operation the fake serves, as GitHub's description names them.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("get", "/repos/{owner}/{repo}/commits/{commit_sha}/comments"),
    ("post", "/repos/{owner}/{repo}/commits/{commit_sha}/comments"),
    ("patch", "/repos/{owner}/{repo}/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("post", "/repos/{owner}/{repo}/git/tags"),
    ("get", "/repos/{owner}/{repo}/git/tags/{tag_sha}"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("get", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),
    ("post", "/repos/{owner}/{repo}/git/blobs"),
    ("post", "/repos/{owner}/{repo}/git/trees"),
    ("post", "/repos/{owner}/{repo}/git/commits"),
    ("get", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("post", "/repos/{owner}/{repo}/releases"),
    ("get", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("post", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("get", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("post", "/repos/{owner}/{repo}/dispatches"),
    ("post", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"),
)
UPLOAD_OPERATION = ("post", "/repos/{owner}/{repo}/releases/{release_id}/assets")

_DOC_KEYS = frozenset({"description", "summary", "example", "examples", "externalDocs", "tags"})


# ---- the trimmed OpenAPI description --------------------------------------------------------


def _strip_docs(node: Any) -> Any:
    """A copy without documentation keys; property names are kept whatever they are."""
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DOC_KEYS and not isinstance(value, dict | list):
            continue
        if key in ("examples", "example", "externalDocs"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _strip_docs(schema) for name, schema in value.items()}
        else:
            out[key] = _strip_docs(value)
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def trim(full: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document cut down to OPERATIONS and the components they reach.

    Parameter and response $refs are resolved in place; schema $refs stay and the schemas they
    name (transitively) are copied, so recursive schemas still work.
    """
    components = full["components"]

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            _, kind, name = node["$ref"].removeprefix("#/").split("/")
            node = components[kind][name]
        return node

    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        item = full["paths"][template]
        op = dict(item[method])
        params = [deref(p) for p in item.get("parameters", []) + op.get("parameters", [])]
        trimmed = {
            "operationId": op["operationId"],
            "parameters": params,
            "responses": {  # response headers are not checked
                code: {k: v for k, v in deref(r).items() if k != "headers"}
                for code, r in op["responses"].items()
            },
        }
        if "requestBody" in op:
            trimmed["requestBody"] = deref(op["requestBody"])
        if (method, template) == UPLOAD_OPERATION:
            trimmed["x-fake-upload"] = True  # served under the uploads prefix, not the API's
        paths.setdefault(template, {})[method] = _strip_docs(trimmed)

    schemas: dict[str, Any] = {}
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        _, kind, name = ref.removeprefix("#/").split("/")
        if kind != "schemas":
            raise ValueError(f"unexpected $ref {ref} left after trimming")
        if name not in schemas:
            schemas[name] = _strip_docs(components["schemas"][name])
            pending.extend(_refs(schemas[name]))
    return {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _param_value(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    return raw


@dataclass
class Operation:
    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    path_params: dict[str, dict[str, Any]]
    query_params: dict[str, tuple[bool, dict[str, Any]]]
    body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    upload: bool


class Spec:
    """Validates requests and responses against the trimmed description."""

    def __init__(self, doc: dict[str, Any], *, from_cache: bool = False) -> None:
        from openapi_schema_validator import (
            OAS30ReadValidator,
            OAS30WriteValidator,
            oas30_format_checker,
        )

        self.doc = doc
        self.seconds = 0.0  # how long loading took (set by load_spec)
        self.from_cache = from_cache
        self._read_cls = OAS30ReadValidator
        self._write_cls = OAS30WriteValidator
        self._formats = oas30_format_checker
        self._validators: dict[tuple[str, bool], Any] = {}
        self._lock = threading.Lock()
        self.operations: list[Operation] = []
        for template, item in doc["paths"].items():
            for method, op in item.items():
                self.operations.append(self._operation(method.upper(), template, op))
        # Most literal segments first, so /issues/comments/{id} wins over /issues/{n}/comments.
        self.operations.sort(key=lambda o: -sum("{" not in s for s in o.template.split("/")))

    @staticmethod
    def _operation(method: str, template: str, op: dict[str, Any]) -> Operation:
        path_params: dict[str, dict[str, Any]] = {}
        query_params: dict[str, tuple[bool, dict[str, Any]]] = {}
        multi: set[str] = set()
        for p in op["parameters"]:
            if p["in"] == "path":
                path_params[p["name"]] = p.get("schema", {})
                if p.get("x-multi-segment"):
                    multi.add(p["name"])
            elif p["in"] == "query":
                query_params[p["name"]] = (bool(p.get("required")), p.get("schema", {}))
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", template):
            if part.startswith("{"):
                name = part[1:-1]
                pattern += f"(?P<{name}>{'.+' if name in multi else '[^/]+'})"
            else:
                pattern += re.escape(part)
        return Operation(
            method=method,
            template=template,
            operation_id=op["operationId"],
            regex=re.compile(f"^{pattern}$"),
            path_params=path_params,
            query_params=query_params,
            body=op.get("requestBody"),
            responses=op["responses"],
            upload=bool(op.get("x-fake-upload")),
        )

    def _validator(self, location: str, schema: dict[str, Any], *, request: bool) -> Any:
        key = (location, request)
        with self._lock:
            if key not in self._validators:
                # The schema with the components beside it: "#/components/..." resolves there.
                root = {**schema, "components": self.doc["components"]}
                cls = self._write_cls if request else self._read_cls
                self._validators[key] = cls(root, format_checker=self._formats)
            return self._validators[key]

    def _errors(
        self, location: str, schema: dict[str, Any], value: Any, *, request: bool
    ) -> list[str]:
        validator = self._validator(location, schema, request=request)
        out = []
        for err in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append(f"{where}: {err.message[:300]}")
        return out

    def match(
        self, method: str, path: str, *, upload: bool
    ) -> tuple[Operation | None, dict[str, str], list[str]]:
        """The operation for a request path (percent-encoded, relative to the API or uploads)."""
        allowed = []
        for op in self.operations:
            if op.upload != upload:
                continue
            m = op.regex.match(path)
            if m:
                if op.method == method:
                    return op, {k: unquote(v) for k, v in m.groupdict().items()}, []
                allowed.append(op.method)
        if allowed:
            return None, {}, [f"{method} {path}: method not in the description (has {allowed})"]
        return None, {}, [f"{method} {path}: no operation in the description serves this path"]

    def validate_request(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        content_type: str | None,
        body: bytes,
        *,
        upload: bool = False,
    ) -> tuple[Operation | None, dict[str, str], list[str]]:
        op, params, problems = self.match(method, path, upload=upload)
        if op is None:
            return None, {}, problems
        name = f"{op.method} {op.template} ({op.operation_id})"
        for key, schema in op.path_params.items():
            try:
                value = _param_value(params[key], schema)
            except ValueError:
                problems.append(f"{name}: path parameter {key}={params[key]!r} is not {schema}")
                continue
            for e in self._errors(f"{op.operation_id}:path:{key}", schema, value, request=True):
                problems.append(f"{name}: path parameter {key}: {e}")
        for key, values in query.items():
            if key not in op.query_params:
                problems.append(f"{name}: unknown query parameter {key!r}")
                continue
            schema = op.query_params[key][1]
            if len(values) > 1 and schema.get("type") != "array":
                problems.append(f"{name}: query parameter {key} given {len(values)} times")
            try:
                value = _param_value(values[-1], schema)
            except ValueError:
                problems.append(f"{name}: query parameter {key}={values[-1]!r} is not {schema}")
                continue
            for e in self._errors(f"{op.operation_id}:query:{key}", schema, value, request=True):
                problems.append(f"{name}: query parameter {key}: {e}")
        for key, (required, _) in op.query_params.items():
            if required and key not in query:
                problems.append(f"{name}: required query parameter {key!r} is missing")
        problems.extend(self._check_body(name, op, content_type, body))
        return op, params, problems

    def _check_body(
        self, name: str, op: Operation, content_type: str | None, body: bytes
    ) -> list[str]:
        if op.body is None:
            return [f"{name}: this operation takes no body, got {len(body)} bytes"] if body else []
        if not body:
            return [f"{name}: the request body is required"] if op.body.get("required") else []
        media = (content_type or "").split(";", 1)[0].strip().lower()
        content = op.body["content"]
        if media not in content:
            return [f"{name}: Content-Type {media or '(none)'} is not one of {sorted(content)}"]
        if media != "application/json":
            return []
        try:
            value = json.loads(body)
        except ValueError as exc:
            return [f"{name}: the body is not JSON ({exc})"]
        schema = content[media]["schema"]
        problems = [
            f"{name}: body {e}"
            for e in self._errors(f"{op.operation_id}:body", schema, value, request=True)
        ]
        # GitHub ignores unknown keys, so a misspelt one would silently do nothing: flag it.
        props = schema.get("properties")
        if isinstance(value, dict) and isinstance(props, dict):
            problems += [f"{name}: body has unknown key {k!r}" for k in value if k not in props]
        return problems

    def validate_response(self, op: Operation, status: int, body: Any) -> list[str]:
        response = op.responses.get(str(status))
        if response is None:
            return []
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        name = f"{op.method} {op.template} response {status}"
        loc = f"{op.operation_id}:response:{status}"
        return [f"{name}: {e}" for e in self._errors(loc, schema, body, request=False)]


def load_spec(cache_dir: Path | None = None, spec_path: Path = SPEC_PATH) -> Spec:
    """The trimmed description, from `cache_dir` when it is there for this spec file's version.

    Trimming the 13 MB description takes ~0.3 s; the cached trim (70 KB) loads in ~1 ms.
    The cache key is the spec file's size and mtime, TRIM_VERSION and the operations served.
    """
    start = time.perf_counter()
    if not spec_path.is_file():
        raise FileNotFoundError(
            f"{spec_path} is missing: run `npm install` (package.json) to get GitHub's OpenAPI "
            "description, which the fake GitHub validates every request against"
        )
    stat = spec_path.stat()
    cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir())
    # The operations served are part of the key: checkouts that serve different ones may share
    # one cache directory (the system's temp directory without pytest's cache).
    served = hashlib.sha1(repr(OPERATIONS).encode()).hexdigest()[:8]
    cached = (
        cache_dir
        / f"github-openapi-trim-{stat.st_size}-{stat.st_mtime_ns}-v{TRIM_VERSION}-{served}.json"
    )
    try:
        doc = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    else:
        spec = Spec(doc, from_cache=True)
        spec.seconds = time.perf_counter() - start
        return spec
    with open(spec_path, encoding="utf-8") as f:
        doc = trim(json.load(f))
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".github-openapi-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, cached)  # atomic: parallel test workers never read half a file
    spec = Spec(doc, from_cache=False)
    spec.seconds = time.perf_counter() - start
    return spec


# ---- the fake server ------------------------------------------------------------------------


@dataclass
class Answer:
    """A scripted answer: a status, body and headers, optionally after a delay."""

    status: int = 500
    body: Any = None  # JSON; None means GitHub's usual {"message": ...}
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering; longer than the client's timeout = a timeout
    after_work: bool = False  # do the request's work first: the write happens, its answer is lost

    @classmethod
    def server_error(cls, status: int = 502) -> Answer:
        return cls(status)

    @classmethod
    def slow(cls, seconds: float) -> Answer:
        """Hold the request `seconds` before answering 504: a client timeout shorter than that
        sees a timeout."""
        return cls(504, delay=seconds)

    @classmethod
    def secondary_limit(cls, retry_after: int = 60, status: int = 403) -> Answer:
        message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        return cls(status, {"message": message}, {"retry-after": str(retry_after)})

    @classmethod
    def primary_limit(cls, reset: int, status: int = 403, limit: int = 5000) -> Answer:
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": str(limit),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }
        return cls(status, {"message": "API rate limit exceeded for installation ID 1."}, headers)

    @classmethod
    def lost(cls, status: int = 502, delay: float = 0.0) -> Answer:
        """GitHub does the work (creates the comment, the status...), but the client sees a 5xx,
        or with a `delay` beyond its read timeout, a timeout: a blind retry would do it twice."""
        return cls(status, delay=delay, after_work=True)

    @classmethod
    def unauthorized(cls) -> Answer:
        return cls(401, {"message": "Bad credentials"})

    @classmethod
    def forbidden(cls) -> Answer:
        return cls(403, {"message": "Resource not accessible by integration"})

    @classmethod
    def not_found(cls) -> Answer:
        return cls(404, {"message": "Not Found"})


DOWNLOADS = "/_storage"  # where the fake keeps release asset bytes (not part of the API)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str  # relative to the API (or uploads) prefix, percent-encoded, no query
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    upload: bool = False

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Script:
    method: str
    regex: re.Pattern[str]
    answers: list[Answer]
    after: int = 0  # matching requests still to let through before the answers start


# The URL fields of a repository object: name, then the path after the repository's API URL.
_REPO_URL_TABLE = """
archive_url /{archive_format}{/ref} assignees_url /assignees{/user} blobs_url /git/blobs{/sha}
branches_url /branches{/branch} collaborators_url /collaborators{/collaborator}
comments_url /comments{/number} commits_url /commits{/sha} compare_url /compare/{base}...{head}
contents_url /contents/{+path} contributors_url /contributors deployments_url /deployments
downloads_url /downloads events_url /events forks_url /forks git_commits_url /git/commits{/sha}
git_refs_url /git/refs{/sha} git_tags_url /git/tags{/sha} hooks_url /hooks
issue_comment_url /issues/comments{/number} issue_events_url /issues/events{/number}
issues_url /issues{/number} keys_url /keys{/key_id} labels_url /labels{/name}
languages_url /languages merges_url /merges milestones_url /milestones{/number}
notifications_url /notifications{?since,all,participating} pulls_url /pulls{/number}
releases_url /releases{/id} stargazers_url /stargazers statuses_url /statuses/{sha}
subscribers_url /subscribers subscription_url /subscription tags_url /tags teams_url /teams
trees_url /git/trees{/sha}
"""
_WORDS = _REPO_URL_TABLE.split()
_REPO_URLS = list(zip(_WORDS[::2], _WORDS[1::2], strict=True))

_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
_OWNER_ID = 9919
_EPOCH = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


class _GitFailed(Exception):
    """A git command of the fake's bare repository failed."""


class FakeGitHub:
    """GitHub's REST API for one repository, in memory, on 127.0.0.1 with an ephemeral port.

    `prefix="/api/v3"` serves it like GitHub Enterprise Server (uploads under /api/uploads);
    without a prefix uploads are served under /uploads (github.com uses another host for them).
    Requests must carry `token`; anonymous GETs are allowed like on a public repository.
    """

    def __init__(
        self,
        spec: Spec,
        *,
        repository: str = "octo-org/demo",
        default_branch: str = "main",
        prefix: str = "",
        token: str = "ghs_FakeInstallationToken0123456789abcd",
    ) -> None:
        self.spec = spec
        self.repository = repository
        self.owner, self.name = repository.split("/")
        self.default_branch = default_branch
        self.prefix = prefix.rstrip("/")
        self.uploads_prefix = "/api/uploads" if self.prefix.startswith("/api/") else "/uploads"
        self.token = token
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.issue_comments: dict[int, list[dict[str, Any]]] = {}
        self.commit_comments: dict[str, list[dict[str, Any]]] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self.refs: dict[str, str] = {}  # "refs/tags/x" -> sha
        self.tag_objects: dict[str, dict[str, Any]] = {}
        self.releases: list[dict[str, Any]] = []
        self.asset_data: dict[int, bytes] = {}
        self.pulls: list[dict[str, Any]] = []
        self.issues: set[int] = set()  # every issue and pull request number
        self.issue_list: list[dict[str, Any]] = []  # the issues (not pull requests), oldest first
        self.dispatches: list[dict[str, Any]] = []  # repository_dispatch events, in order
        self.workflow_dispatches: list[dict[str, Any]] = []  # workflow_dispatch, in order
        self.git_dir: Path | None = None  # a real repository the contents API reads from
        self._scripts: list[_Script] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._ids = 1000
        self._ticks = 0
        self.git_dir: Path | None = None  # the bare repository git-data objects live in
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.refs[f"refs/heads/{default_branch}"] = _sha("initial commit")

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes scripted delays
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.git_dir is not None and self.git_dir.parent.name.startswith("fakegithub-"):
            shutil.rmtree(self.git_dir.parent, ignore_errors=True)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The API base URL, what GITHUB_API_URL would be."""
        return self.host_url + self.prefix

    @property
    def html_root(self) -> str:
        return f"{self.host_url}/{self.repository}"

    # ---- test controls -----------------------------------------------------------------------

    def script(self, method: str, path_regex: str, *answers: Answer, after: int = 0) -> None:
        """Answer the next len(answers) requests matching (method, regex search on the path),
        once `after` matching requests have been served as usual."""
        with self._lock:
            script = _Script(method.upper(), re.compile(path_regex), list(answers), after)
            self._scripts.append(script)

    def calls(self, method: str | None = None, path_regex: str = "") -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and re.search(path_regex, r.path)
            ]

    def add_pull(
        self,
        head: str = "feature",
        base: str | None = None,
        *,
        head_sha: str | None = None,
        title: str = "A change",
        head_repo: str | None = None,
        user: str = "octocat",
    ) -> dict[str, Any]:
        with self._lock:
            return self._new_pull(
                title,
                head,
                base or self.default_branch,
                None,
                False,
                head_sha or _sha(f"head {head}"),
                head_repo or self.repository,
                {"login": user, "id": 583231, "type": "User"},
            )

    def add_issue_comment(self, number: int, body: str, *, user: str = "octocat") -> dict[str, Any]:
        with self._lock:
            self.issues.add(number)
            return self._new_issue_comment(
                number, body, {"login": user, "id": 583231, "type": "User"}
            )

    def add_ref(self, ref: str, sha: str) -> None:
        with self._lock:
            self.refs[ref] = sha

    # ---- JSON builders -----------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _now(self) -> str:
        self._ticks += 1
        return (_EPOCH + timedelta(seconds=self._ticks)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _repo_api(self, path: str = "") -> str:
        return self._api(f"/repos/{self.repository}{path}")

    def _user(self, who: dict[str, Any]) -> dict[str, Any]:
        login = who["login"]
        api = self._api(f"/users/{login}")
        return {
            "login": login,
            "id": who["id"],
            "node_id": _node_id("U", who["id"]),
            "avatar_url": f"{self.host_url}/avatars/u/{who['id']}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.host_url}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": who["type"],
            "user_view_type": "public",
            "site_admin": False,
        }

    def _repo_json(self, full_name: str | None = None) -> dict[str, Any]:
        full_name = full_name or self.repository
        owner, name = full_name.split("/")
        api = self._api(f"/repos/{full_name}")
        html = f"{self.host_url}/{full_name}"
        repo_id = 100000 + sum(full_name.encode())
        data: dict[str, Any] = {key: api + suffix for key, suffix in _REPO_URLS}
        data.update(
            {
                "id": repo_id,
                "node_id": _node_id("R", repo_id),
                "name": name,
                "full_name": full_name,
                "owner": self._user({"login": owner, "id": _OWNER_ID, "type": "Organization"}),
                "private": False,
                "html_url": html,
                "description": "A demo ML project",
                "fork": False,
                "url": api,
                "clone_url": f"{html}.git",
                "git_url": f"git://{full_name}.git",
                "ssh_url": f"git@127.0.0.1:{full_name}.git",
                "svn_url": html,
                "homepage": None,
                "mirror_url": None,
                "language": "Python",
                "default_branch": self.default_branch,
                "forks": 0,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers": 0,
                "watchers_count": 0,
                "size": 108,
                "open_issues": len(self.issues),
                "open_issues_count": len(self.issues),
                "has_issues": True,
                "has_projects": True,
                "has_wiki": True,
                "has_pages": False,
                "has_downloads": True,
                "has_discussions": False,
                "archived": False,
                "disabled": False,
                "license": None,
                "visibility": "public",
                "pushed_at": _EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "network_count": 0,
                "subscribers_count": 1,
                "topics": [],
            }
        )
        return data

    def _new_issue_comment(self, number: int, body: str, who: dict[str, Any]) -> dict[str, Any]:
        cid = self._next_id()
        now = self._now()
        comment = {
            "id": cid,
            "node_id": _node_id("IC", cid),
            "url": self._repo_api(f"/issues/comments/{cid}"),
            "html_url": f"{self.html_root}/pull/{number}#issuecomment-{cid}",
            "issue_url": self._repo_api(f"/issues/{number}"),
            "body": body,
            "user": self._user(who),
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE" if who["type"] == "Bot" else "MEMBER",
        }
        self.issue_comments.setdefault(number, []).append(comment)
        return comment

    def _new_commit_comment(self, sha: str, body: str) -> dict[str, Any]:
        cid = self._next_id()
        now = self._now()
        comment = {
            "id": cid,
            "node_id": _node_id("CC", cid),
            "url": self._repo_api(f"/comments/{cid}"),
            "html_url": f"{self.html_root}/commit/{sha}#commitcomment-{cid}",
            "body": body,
            "path": None,
            "position": None,
            "line": None,
            "commit_id": sha,
            "user": self._user(_BOT),
            "author_association": "NONE",
            "created_at": now,
            "updated_at": now,
        }
        self.commit_comments.setdefault(sha, []).append(comment)
        return comment

    def _new_pull(
        self,
        title: str,
        head: str,
        base: str,
        body: str | None,
        draft: bool,
        head_sha: str,
        head_repo: str,
        who: dict[str, Any],
    ) -> dict[str, Any]:
        number = max(self.issues | {0}) + 1
        self.issues.add(number)
        pid = self._next_id()
        now = self._now()
        base_sha = self.refs.get(f"refs/heads/{base}", _sha(f"base {base}"))
        api = self._repo_api(f"/pulls/{number}")
        issue = self._repo_api(f"/issues/{number}")
        html = f"{self.html_root}/pull/{number}"

        def branch(repo: str, ref: str, sha: str) -> dict[str, Any]:
            owner = repo.split("/")[0]
            return {
                "label": f"{owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self._user({"login": owner, "id": _OWNER_ID, "type": "Organization"}),
                "repo": self._repo_json(repo),
            }

        links = {
            "self": api,
            "html": html,
            "issue": issue,
            "comments": f"{issue}/comments",
            "review_comments": f"{api}/comments",
            "review_comment": self._repo_api("/pulls/comments{/number}"),
            "commits": f"{api}/commits",
            "statuses": self._repo_api(f"/statuses/{head_sha}"),
        }
        pull = {
            "url": api,
            "id": pid,
            "node_id": _node_id("PR", pid),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": self._repo_api("/pulls/comments{/number}"),
            "comments_url": f"{issue}/comments",
            "statuses_url": self._repo_api(f"/statuses/{head_sha}"),
            "number": number,
            "state": "open",
            "locked": False,
            "title": title,
            "user": self._user(who),
            "body": body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": branch(head_repo, head.split(":")[-1], head_sha),
            "base": branch(self.repository, base, base_sha),
            "_links": {k: {"href": v} for k, v in links.items()},
            "author_association": "MEMBER",
            "auto_merge": None,
            "draft": draft,
            "merged": False,
            "mergeable": None,
            "rebaseable": None,
            "mergeable_state": "unknown",
            "merged_by": None,
            "comments": 0,
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 1,
            "deletions": 0,
            "changed_files": 1,
        }
        self.pulls.append(pull)
        return pull

    # ---- git data: objects in a real bare repository ------------------------------------------

    def bare(self) -> Path:
        """The bare repository behind the git data API (made on first use); push the commits
        a test trains on here, as they would be on GitHub."""
        if self.git_dir is None:
            self.git_dir = Path(tempfile.mkdtemp(prefix="fakegithub-")) / "repo.git"
            subprocess.run(["git", "init", "-q", "--bare", str(self.git_dir)], check=True)
        return self.git_dir

    def _git(self, *args: str, data: bytes | None = None, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.bare(),
            input=data,
            capture_output=True,
            env={**os.environ, **(env or {})},
        )
        if proc.returncode != 0:
            raise _GitFailed(proc.stderr.decode(errors="replace").strip())
        return proc.stdout.decode().strip()

    def _kind(self, sha: str) -> str | None:
        try:
            return self._git("cat-file", "-t", sha) if _SHA_RE.match(sha) else None
        except _GitFailed:
            return None

    def _op_git_create_blob(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        content = body["content"]
        data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
        sha = self._git("hash-object", "-w", "--stdin", data=data)
        return 201, {"url": self._repo_api(f"/git/blobs/{sha}"), "sha": sha}, {}

    def _op_git_create_tree(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        base = body.get("base_tree")
        if base is not None and self._kind(base) != "tree":
            return self._invalid("Invalid tree info", [{"resource": "Tree", "field": "base_tree"}])
        lines = []
        for entry in body["tree"]:
            sha = entry.get("sha")
            if "content" in entry:
                sha = self._git("hash-object", "-w", "--stdin", data=entry["content"].encode())
            if sha is not None and self._kind(sha) != entry["type"]:
                return self._invalid(f"tree.sha {sha} is not a valid {entry['type']}")
            mode = entry["mode"] if sha is not None else "0"
            lines.append(f"{mode} {sha or '0' * 40}\t{entry['path']}\n")
        index = str(self.bare() / f"index-{self._next_id()}")
        env = {"GIT_INDEX_FILE": index}
        try:
            self._git("read-tree", *([base] if base else ["--empty"]), env=env)
            self._git("update-index", "--index-info", data="".join(lines).encode(), env=env)
            sha = self._git("write-tree", env=env)
        finally:
            Path(index).unlink(missing_ok=True)
        listed = self._git("ls-tree", sha)
        tree = []
        for line in listed.splitlines():
            meta, path = line.split("\t", 1)
            mode, kind, obj = meta.split()
            tree.append(
                {
                    "path": path,
                    "mode": mode,
                    "type": kind,
                    "sha": obj,
                    "url": self._repo_api(f"/git/{kind}s/{obj}"),
                }
            )
        data = {
            "sha": sha,
            "url": self._repo_api(f"/git/trees/{sha}"),
            "tree": tree,
            "truncated": False,
        }
        return 201, data, {}

    def _commit_json(self, sha: str) -> dict[str, Any]:
        raw = self._git("cat-file", "commit", sha)
        head, _, message = raw.partition("\n\n")
        fields: dict[str, Any] = {"parents": []}
        for line in head.splitlines():
            key, _, rest = line.partition(" ")
            if key == "tree":
                fields["tree"] = {"sha": rest, "url": self._repo_api(f"/git/trees/{rest}")}
            elif key == "parent":
                fields["parents"].append(
                    {
                        "sha": rest,
                        "url": self._repo_api(f"/git/commits/{rest}"),
                        "html_url": f"{self.html_root}/commit/{rest}",
                    }
                )
            elif key in ("author", "committer"):
                name, _, more = rest.partition(" <")
                email, _, when = more.partition("> ")
                stamp = datetime.fromtimestamp(int(when.split()[0]), timezone.utc)
                fields[key] = {
                    "name": name,
                    "email": email,
                    "date": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
        return {
            "sha": sha,
            "node_id": _node_id("C", int(sha[:8], 16)),
            "url": self._repo_api(f"/git/commits/{sha}"),
            "html_url": f"{self.html_root}/commit/{sha}",
            "message": message.rstrip("\n"),
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
            **fields,
        }

    def _op_git_create_commit(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self._kind(body["tree"]) != "tree":
            return self._invalid("Tree SHA does not exist")
        parents = body.get("parents") or []
        if any(self._kind(p) != "commit" for p in parents):
            return self._invalid("Parent SHA does not exist or is not a commit object")
        who = body.get("author") or {"name": _BOT["login"], "email": "bot@users.noreply.github.com"}
        date = who.get("date") or self._now()
        env = {
            "GIT_AUTHOR_NAME": who["name"],
            "GIT_AUTHOR_EMAIL": who["email"],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "GitHub",
            "GIT_COMMITTER_EMAIL": "noreply@github.com",
            "GIT_COMMITTER_DATE": date,
        }
        args = ["commit-tree", body["tree"], *[a for p in parents for a in ("-p", p)]]
        sha = self._git(*args, data=body["message"].encode(), env=env)
        return 201, self._commit_json(sha), {}

    def _op_git_get_commit(
        self, params: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        sha = params["commit_sha"]
        if self._kind(sha) != "commit":
            return self._not_found()
        return 200, self._commit_json(sha), {}

    def _ref_json(self, ref: str) -> dict[str, Any]:
        sha = self.refs[ref]
        kind = "tag" if sha in self.tag_objects else "commit"
        return {
            "ref": ref,
            "node_id": _node_id("REF", int(sha[:8], 16)),
            "url": self._repo_api(f"/git/{ref}"),
            "object": {"sha": sha, "type": kind, "url": self._repo_api(f"/git/{kind}s/{sha}")},
        }

    # ---- request handling --------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path, upload = parts.path, False
        if self.uploads_prefix and path.startswith(self.uploads_prefix + "/"):
            path, upload = path[len(self.uploads_prefix) :], True
        elif self.prefix:
            if not path.startswith(self.prefix + "/"):
                with self._lock:
                    self.violations.append(f"{method} {path}: outside the API prefix {self.prefix}")
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            path = path[len(self.prefix) :]
        record = Recorded(method, path, query, headers, body, upload)
        with self._lock:
            self.requests.append(record)

        op, params, problems = self.spec.validate_request(
            method, path, query, headers.get("content-type"), body, upload=upload
        )
        version = headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            problems.append(f"{method} {path}: X-GitHub-Api-Version {version!r} is not supported")
        if problems:
            with self._lock:
                self.violations.extend(problems)
            message = "fakegithub: the request does not match GitHub's OpenAPI description: "
            return 422, {"message": message + "; ".join(problems), "documentation_url": DOCS}, {}

        answer = self._scripted(method, path)
        if answer is not None and not answer.after_work:
            return self._answer(answer)

        auth = headers.get("authorization")
        if auth is None and method != "GET":
            return 401, {"message": "Requires authentication", "documentation_url": DOCS}, {}
        if auth is not None and auth != f"Bearer {self.token}" and auth != f"token {self.token}":
            return 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}

        if op is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if f"{params.get('owner')}/{params.get('repo')}".lower() != self.repository.lower():
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}
        handler: Callable[..., tuple[int, Any, dict[str, str]]] = getattr(
            self, "_op_" + op.operation_id.replace("/", "_").replace("-", "_")
        )
        payload = json.loads(body) if body and not upload else None
        with self._lock:
            status, data, extra = handler(
                params=params, query=query, body=payload, raw=body, headers=headers, path=parts.path
            )
        found = self.spec.validate_response(op, status, data)
        if found:
            with self._lock:
                self.violations.extend(f"fake answered off-spec: {p}" for p in found)
        if answer is not None:  # the work is done, but this is what the client gets
            return self._answer(answer)
        return status, data, extra

    def _answer(self, answer: Answer) -> tuple[int, Any, dict[str, str]]:
        if answer.delay and self._stopping.wait(answer.delay):
            return 503, {"message": "server stopping"}, {}
        return answer.status, answer.body, answer.headers

    def _scripted(self, method: str, path: str) -> Answer | None:
        with self._lock:
            for script in self._scripts:
                if script.answers and script.method == method and script.regex.search(path):
                    if script.after:
                        script.after -= 1
                        return None
                    return script.answers.pop(0)
        return None

    def _paged(
        self, items: list[Any], query: dict[str, list[str]], path: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = max(1, min(100, int(query.get("per_page", ["30"])[-1])))
        page = max(1, int(query.get("page", ["1"])[-1]))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(n: int, rel: str) -> str:
            q = {k: v[-1] for k, v in query.items()}
            q.update({"per_page": str(per_page), "page": str(n)})
            return f'<{self.host_url}{path}?{urlencode(q)}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    @staticmethod
    def _invalid(
        message: str, errors: list[dict[str, Any]] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        data: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            data["errors"] = errors
        return 422, data, {}

    @staticmethod
    def _not_found() -> tuple[int, Any, dict[str, str]]:
        return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}

    # ---- operations (named after GitHub's operationIds) --------------------------------------

    def _op_repos_get(self, **_: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self._repo_json(), {}

    def _op_issues_list_comments(
        self, params: dict[str, str], query: dict[str, list[str]], path: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        number = int(params["issue_number"])
        if number not in self.issues:
            return self._not_found()
        return self._paged(self.issue_comments.get(number, []), query, path)

    def _op_issues_create_comment(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        number = int(params["issue_number"])
        if number not in self.issues:
            return self._not_found()
        comment = self._new_issue_comment(number, body["body"], _BOT)
        return 201, comment, {"Location": comment["url"]}

    def _op_issues_update_comment(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        cid = int(params["comment_id"])
        for comments in self.issue_comments.values():
            for comment in comments:
                if comment["id"] == cid:
                    comment.update(body=body["body"], updated_at=self._now())
                    return 200, comment, {}
        return self._not_found()

    def _op_repos_list_comments_for_commit(
        self, params: dict[str, str], query: dict[str, list[str]], path: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return self._paged(self.commit_comments.get(params["commit_sha"], []), query, path)

    def _op_repos_create_commit_comment(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        sha = params["commit_sha"]
        if not _SHA_RE.match(sha):
            return self._invalid(f"No commit found for SHA: {sha}")
        comment = self._new_commit_comment(sha, body["body"])
        return 201, comment, {"Location": comment["url"]}

    def _op_repos_update_commit_comment(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        cid = int(params["comment_id"])
        for comments in self.commit_comments.values():
            for comment in comments:
                if comment["id"] == cid:
                    comment.update(body=body["body"], updated_at=self._now())
                    return 200, comment, {}
        return self._not_found()

    def _op_repos_create_commit_status(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        sha = params["sha"]
        if not _SHA_RE.match(sha):
            return self._invalid(f"No commit found for SHA: {sha}")
        description = body.get("description")
        if description is not None and len(description) > 140:
            return self._invalid(
                "Validation Failed",
                [
                    {
                        "resource": "Status",
                        "code": "custom",
                        "field": "description",
                        "message": "description is too long (maximum is 140 characters)",
                    }
                ],
            )
        sid = self._next_id()
        now = self._now()
        status = {
            "url": self._repo_api(f"/statuses/{sha}"),
            "avatar_url": None,
            "id": sid,
            "node_id": _node_id("SC", sid),
            "state": body["state"],
            "description": description,
            "target_url": body.get("target_url"),
            "context": body.get("context", "default"),
            "created_at": now,
            "updated_at": now,
            "creator": self._user(_BOT),
        }
        status["avatar_url"] = status["creator"]["avatar_url"]
        self.statuses.setdefault(sha, []).insert(0, status)  # newest first, like GitHub
        return 201, status, {"Location": status["url"]}

    def _op_repos_list_commit_statuses_for_ref(
        self, params: dict[str, str], query: dict[str, list[str]], path: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ref = params["ref"]
        sha = (
            ref
            if _SHA_RE.match(ref)
            else self.refs.get(f"refs/{ref}") or self.refs.get(f"refs/heads/{ref}")
        )
        if sha is None:
            return self._not_found()
        return self._paged(self.statuses.get(sha, []), query, path)

    def _op_git_create_tag(self, body: dict[str, Any], **_: Any) -> tuple[int, Any, dict[str, str]]:
        if not _SHA_RE.match(body["object"]):
            return self._invalid("Object does not exist")
        tagger = body.get("tagger") or {
            "name": "github-actions[bot]",
            "email": "41898282+github-actions[bot]@users.noreply.github.com",
        }
        tagger = {"date": tagger.get("date") or self._now(), **tagger}
        sha = _sha(json.dumps([body, tagger], sort_keys=True))
        tag = {
            "node_id": _node_id("TAG", int(sha[:8], 16)),
            "tag": body["tag"],
            "sha": sha,
            "url": self._repo_api(f"/git/tags/{sha}"),
            "message": body["message"],
            "tagger": tagger,
            "object": {
                "sha": body["object"],
                "type": body["type"],
                "url": self._repo_api(f"/git/{body['type']}s/{body['object']}"),
            },
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }
        self.tag_objects[sha] = tag
        return 201, tag, {"Location": tag["url"]}

    def _op_git_get_tag(self, params: dict[str, str], **_: Any) -> tuple[int, Any, dict[str, str]]:
        tag = self.tag_objects.get(params["tag_sha"])
        return (200, tag, {}) if tag is not None else self._not_found()

    def _op_git_create_ref(self, body: dict[str, Any], **_: Any) -> tuple[int, Any, dict[str, str]]:
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return self._invalid(f"{ref} is not a valid ref name.")
        if not _SHA_RE.match(sha):
            return self._invalid("Object does not exist")
        if ref in self.refs:
            return self._invalid("Reference already exists")
        if self.git_dir is not None and self._kind(sha) is not None:
            self._git("update-ref", ref, sha, "")  # clones and ls-remote see it
        elif ref.startswith("refs/exps/"):
            return self._invalid("Object does not exist")
        self.refs[ref] = sha
        data = self._ref_json(ref)
        return 201, data, {"Location": data["url"]}

    def _op_git_get_ref(self, params: dict[str, str], **_: Any) -> tuple[int, Any, dict[str, str]]:
        ref = "refs/" + params["ref"]
        if ref not in self.refs:
            return self._not_found()
        return 200, self._ref_json(ref), {}

    def _op_git_list_matching_refs(
        self, params: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        prefix = "refs/" + params["ref"]
        return 200, [self._ref_json(r) for r in sorted(self.refs) if r.startswith(prefix)], {}

    def _op_repos_create_release(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        tag = body["tag_name"]
        if any(r["tag_name"] == tag for r in self.releases):
            return self._invalid(
                "Validation Failed",
                [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
            )
        target = body.get("target_commitish") or self.default_branch
        if f"refs/tags/{tag}" not in self.refs and not body.get("draft"):
            sha = target if _SHA_RE.match(target) else self.refs.get(f"refs/heads/{target}")
            if sha is None:
                return self._invalid(
                    "Validation Failed",
                    [{"resource": "Release", "code": "invalid", "field": "target_commitish"}],
                )
            self.refs[f"refs/tags/{tag}"] = sha
        rid = self._next_id()
        now = self._now()
        api = self._repo_api(f"/releases/{rid}")
        upload = f"{self.host_url}{self.uploads_prefix}/repos/{self.repository}/releases/{rid}"
        release = {
            "url": api,
            "html_url": f"{self.html_root}/releases/tag/{tag}",
            "assets_url": f"{api}/assets",
            "upload_url": upload + "/assets{?name,label}",
            "tarball_url": self._repo_api(f"/tarball/{tag}"),
            "zipball_url": self._repo_api(f"/zipball/{tag}"),
            "id": rid,
            "node_id": _node_id("RE", rid),
            "tag_name": tag,
            "target_commitish": target,
            "name": body.get("name") or tag,
            "body": body.get("body"),
            "draft": bool(body.get("draft")),
            "prerelease": bool(body.get("prerelease")),
            "immutable": False,
            "created_at": now,
            "published_at": None if body.get("draft") else now,
            "updated_at": now,
            "author": self._user(_BOT),
            "assets": [],
        }
        self.releases.append(release)
        return 201, release, {"Location": api}

    def _op_repos_get_release_by_tag(
        self, params: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for release in self.releases:
            if release["tag_name"] == params["tag"] and not release["draft"]:
                return 200, release, {}
        return self._not_found()

    def _op_repos_upload_release_asset(
        self,
        params: dict[str, str],
        query: dict[str, list[str]],
        raw: bytes,
        headers: dict[str, str],
        **_: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        rid = int(params["release_id"])
        release = next((r for r in self.releases if r["id"] == rid), None)
        if release is None:
            return self._not_found()
        name = query["name"][-1]
        if any(a["name"] == name for a in release["assets"]):
            return self._invalid(
                "Validation Failed",
                [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}],
            )
        aid = self._next_id()
        now = self._now()
        tag = release["tag_name"]
        asset = {
            "url": self._repo_api(f"/releases/assets/{aid}"),
            "id": aid,
            "node_id": _node_id("RA", aid),
            "name": name,
            "label": query.get("label", [""])[-1],
            "uploader": self._user(_BOT),
            "content_type": headers.get("content-type", ""),
            "state": "uploaded",
            "size": len(raw),
            "digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
            "download_count": 0,
            "created_at": now,
            "updated_at": now,
            "browser_download_url": f"{self.html_root}/releases/download/{tag}/{name}",
        }
        release["assets"].append(asset)
        self.asset_data[aid] = raw
        return 201, asset, {}

    def _op_repos_get_release_asset(
        self, params: dict[str, str], headers: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        aid = int(params["asset_id"])
        asset = next((a for r in self.releases for a in r["assets"] if a["id"] == aid), None)
        if asset is None:
            return self._not_found()
        if headers.get("accept") == "application/octet-stream":
            # Like GitHub: a redirect to the storage that holds the bytes.
            return 302, None, {"Location": f"{self.host_url}{DOWNLOADS}/{aid}"}
        return 200, asset, {}

    def _op_pulls_list(
        self, query: dict[str, list[str]], path: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", ["open"])[-1]
        head = query.get("head", [None])[-1]
        base = query.get("base", [None])[-1]
        found = [
            p
            for p in self.pulls
            if (state == "all" or p["state"] == state)
            and (head is None or p["head"]["label"] == head)
            and (base is None or p["base"]["ref"] == base)
        ]
        found.sort(key=lambda p: p["created_at"], reverse=True)  # GitHub: newest first
        return self._paged(found, query, path)

    def _op_repos_get_content(
        self, params: dict[str, str], query: dict[str, list[str]], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """A file of `git_dir` at `ref` (a commit or branch), as `git show` reads it."""
        import subprocess

        path, ref = unquote(params["path"]), query.get("ref", [self.default_branch])[-1]
        if self.git_dir is None:
            return self._not_found()
        shown = subprocess.run(
            ["git", "-C", str(self.git_dir), "show", f"{ref}:{path}"], capture_output=True
        )
        blob = subprocess.run(
            ["git", "-C", str(self.git_dir), "rev-parse", f"{ref}:{path}"],
            capture_output=True,
            text=True,
        )
        if shown.returncode != 0 or blob.returncode != 0:
            return self._not_found()
        sha = blob.stdout.strip()
        api = self._repo_api(f"/contents/{path}?ref={ref}")
        html = f"{self.html_root}/blob/{ref}/{path}"
        git_url = self._repo_api(f"/git/blobs/{sha}")
        return (
            200,
            {
                "type": "file",
                "encoding": "base64",
                "size": len(shown.stdout),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": base64.b64encode(shown.stdout).decode(),
                "sha": sha,
                "url": api,
                "git_url": git_url,
                "html_url": html,
                "download_url": f"{self.host_url}/raw/{ref}/{path}",
                "_links": {"self": api, "git": git_url, "html": html},
            },
            {},
        )

    def _op_pulls_create(self, body: dict[str, Any], **_: Any) -> tuple[int, Any, dict[str, str]]:
        head, base = body["head"], body["base"]
        owner, _, branch = head.rpartition(":")
        label = f"{owner or self.owner}:{branch}"
        for p in self.pulls:
            if p["state"] == "open" and p["head"]["label"] == label and p["base"]["ref"] == base:
                return self._invalid(
                    "Validation Failed",
                    [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {label}.",
                        }
                    ],
                )
        if f"refs/heads/{base}" not in self.refs:
            return self._invalid(
                "Validation Failed",
                [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
            )
        sha = self.refs.get(f"refs/heads/{branch}")
        if sha is None:
            return self._invalid(
                "Validation Failed",
                [{"resource": "PullRequest", "field": "head", "code": "invalid"}],
            )
        pull = self._new_pull(
            body.get("title", ""),
            label,
            base,
            body.get("body"),
            bool(body.get("draft")),
            sha,
            f"{owner or self.owner}/{self.name}",
            _BOT,
        )
        return 201, pull, {"Location": pull["url"]}

    def _op_pulls_update(
        self, params: dict[str, str], body: dict[str, Any] | None, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        number = int(params["pull_number"])
        pull = next((p for p in self.pulls if p["number"] == number), None)
        if pull is None:
            return self._not_found()
        for key in ("title", "body", "state"):
            if body and key in body:
                pull[key] = body[key]
        if body and "base" in body:
            pull["base"]["ref"] = body["base"]
            pull["base"]["label"] = f"{self.owner}:{body['base']}"
        pull["updated_at"] = self._now()
        if pull["state"] == "closed" and pull["closed_at"] is None:
            pull["closed_at"] = pull["updated_at"]
        return 200, pull, {}

    def _label_json(self, name: str) -> dict[str, Any]:
        lid = 500000 + sum(name.encode())
        return {
            "id": lid,
            "node_id": _node_id("LA", lid),
            "url": self._repo_api(f"/labels/{name}"),
            "name": name,
            "description": None,
            "color": "ededed",
            "default": False,
        }

    def _op_issues_list_for_repo(
        self, query: dict[str, list[str]], path: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", ["open"])[-1]
        wanted = [w for w in query.get("labels", [""])[-1].split(",") if w]
        found = [
            i
            for i in self.issue_list
            if (state == "all" or i["state"] == state)
            and all(w in {label["name"] for label in i["labels"]} for w in wanted)
        ]
        found.sort(key=lambda i: i["number"], reverse=True)  # GitHub: newest first
        return self._paged(found, query, path)

    def _op_issues_create(self, body: dict[str, Any], **_: Any) -> tuple[int, Any, dict[str, str]]:
        number = max(self.issues | {0}) + 1
        self.issues.add(number)
        iid = self._next_id()
        now = self._now()
        api = self._repo_api(f"/issues/{number}")
        labels = [
            self._label_json(x if isinstance(x, str) else x["name"]) for x in body.get("labels", [])
        ]
        issue = {
            "id": iid,
            "node_id": _node_id("I", iid),
            "url": api,
            "repository_url": self._repo_api(),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.html_root}/issues/{number}",
            "number": number,
            "state": "open",  # state_reason: absent until closed (the spec's enum has no null)
            "title": body["title"],
            "body": body.get("body"),
            "user": self._user(_BOT),
            "labels": labels,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE",
        }
        self.issue_list.append(issue)
        return 201, issue, {"Location": api}

    def _op_issues_update(
        self, params: dict[str, str], body: dict[str, Any] | None, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        number = int(params["issue_number"])
        issue = next((i for i in self.issue_list if i["number"] == number), None)
        if issue is None:
            return self._not_found()
        for key in ("title", "body", "state", "state_reason"):
            if body and key in body:
                issue[key] = body[key]
        issue["updated_at"] = self._now()
        if issue["state"] == "closed" and issue["closed_at"] is None:
            issue["closed_at"] = issue["updated_at"]
        if issue["state"] == "open":
            issue["closed_at"] = None
        return 200, issue, {}

    def _op_repos_create_dispatch_event(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        payload = body.get("client_payload") or {}
        if len(json.dumps(payload)) >= 64 * 1024:  # GitHub's limit, not in the description
            return self._invalid("client_payload: the payload must be less than 64KB")
        self.dispatches.append({"event_type": body["event_type"], "client_payload": payload})
        return 204, None, {}

    def _op_actions_create_workflow_dispatch(
        self, body: dict[str, Any], params: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self.workflow_dispatches.append(
            {"workflow": params["workflow_id"], "ref": body["ref"], "inputs": body.get("inputs")}
        )
        return 204, None, {}


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _node_id(kind: str, number: int) -> str:
    return kind + "_" + base64.b64encode(f"0:{number}".encode()).decode().rstrip("=")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms each)
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.command == "GET" and self.path.startswith(DOWNLOADS + "/"):
            return self._download(self.path[len(DOWNLOADS) + 1 :])
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, data, extra = self.fake._handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the fake: answer 500 and record it
            self.fake.violations.append(
                f"fakegithub crashed on {self.command} {self.path}: {exc!r}"
            )
            status, data, extra = 500, {"message": "fake crashed"}, {}
        if data is None and status != 204:
            data = {"message": HTTPStatus(status).phrase, "documentation_url": DOCS}
        payload = json.dumps(data).encode() if status != 204 else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            self.send_header("X-GitHub-Request-Id", f"FAKE:{len(self.fake.requests)}")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def _download(self, asset_id: str) -> None:
        data = self.fake.asset_data.get(int(asset_id)) if asset_id.isdigit() else None
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

"""The transport under the GitHub client: retries, rate limits, pagination, one-line errors.

`RestClient` sends requests to one API base URL (github.com's or a GitHub Enterprise Server's)
and knows nothing of endpoints; `mlops_actions.github.client.GitHub` adds those. The token is only
ever sent to the API host (and to github.com's uploads host), and no message or repr has it.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TypedDict, TypeVar
from urllib.parse import urlsplit

import requests

from mlops_actions import __version__, output
from mlops_actions.errors import GitHubError

API_VERSION = "2022-11-28"

T = TypeVar("T")


class GitHubRequestError(GitHubError):
    """GitHub answered with an error status; `status` and `github_message` say which."""

    def __init__(self, message: str, *, method: str, path: str, status: int, github_message: str):
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.github_message = github_message


class MaybeDoneError(GitHubError):
    """A write that must not be sent twice failed in a way that leaves open whether GitHub did
    it (a 5xx answer, a timeout, a dropped connection): look before sending it again."""


_SECONDARY_RE = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class Options(TypedDict, total=False):
    """RestClient's keyword options, for the classes and factories that pass them on."""

    timeout: tuple[float, float]
    max_attempts: int
    max_wait: float
    backoff: float
    backoff_cap: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    session: requests.Session | None


class RestClient:
    """Requests to GitHub's REST API at `api_url`, with retries.

    Transient failures (5xx, connection errors, timeouts) are retried with exponential backoff
    and jitter; rate limits are waited out as GitHub asks. Both are bounded by `max_attempts`
    and by `max_wait` seconds of sleeping in total. `sleep` and `clock` are injectable so tests
    can check the waits without waiting.

    `timeout` is (connect, read) seconds for each attempt.
    """

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_attempts: int = 5,
        max_wait: float = 120.0,
        backoff: float = 1.0,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._token = (token or "").strip() or None  # a trailing newline from a file is common
        output.add_secret(self._token)
        self._session = session or requests.Session()

    def close(self) -> None:
        self._session.close()

    def paginate(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        permission: str | None = None,
        per_page: int | None = 100,
    ) -> list[object]:
        """GET `path` and every following page its Link headers name; the items of all pages."""
        query: dict[str, str | int] = dict(params or {})
        if per_page is not None:
            query["per_page"] = per_page
        items: list[object] = []
        url: str | None = path
        while url is not None:
            resp = self.request("GET", url, params=query, permission=permission)
            page = resp.json()
            if not isinstance(page, list):
                raise GitHubError(f"GET {self._display(url)}: expected a list, got {type(page)}")
            items.extend(page)
            url = resp.links.get("next", {}).get("url")
            query = {}  # the next URL carries the query
        return items

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        data: Callable[[], bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        permission: str | None = None,
        allow_404: bool = False,
        once: bool = False,
    ) -> requests.Response:
        """Send one API request (path relative to the API URL, or a full URL), with retries.

        Returns the response when it is a success (or a 404 with allow_404); raises
        GitHubRequestError for an error answer and GitHubError when GitHub cannot be reached.
        `permission` (e.g. "statuses: write") is named in the hint of a 403. With `once` (a
        write that must not happen twice), a failure that may have done it raises
        MaybeDoneError instead of being retried; rate limits are still waited out.
        """
        if "://" in path:
            self._check_same_service(path)
        url = path if "://" in path else self.api_url + path
        shown = self._display(url)
        all_headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"mlops-actions/{__version__}",
        }
        if self._token:
            all_headers["Authorization"] = f"Bearer {self._token}"
        all_headers.update(headers or {})
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            failure: str
            resp: requests.Response | None = None
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data() if data is not None else None,
                    headers=all_headers,
                    timeout=self.timeout,
                )
            except requests.Timeout as exc:
                kind = "connecting" if isinstance(exc, requests.ConnectTimeout) else "waiting"
                limit = self.timeout[0] if kind == "connecting" else self.timeout[1]
                failure = f"timed out {kind} ({limit:g} s)"
                delay: float | None = self._backoff(attempt)
            except requests.ConnectionError as exc:
                failure = f"cannot connect to {urlsplit(url).netloc} ({_connection_reason(exc)})"
                delay = self._backoff(attempt)
            except requests.RequestException as exc:
                # Not transient (an invalid URL or header): say what, without the token.
                raise GitHubError(f"{method} {shown}: {self._safe_text(exc)}") from None
            else:
                if resp.status_code < 400 or (allow_404 and resp.status_code == 404):
                    return resp
                delay = self._retry_delay(resp, attempt)
                failure = ""
            if delay is None:
                assert resp is not None
                raise self._error(method, shown, resp, permission)
            if once and (resp is None or resp.status_code >= 500):
                what = failure if resp is None else f"{resp.status_code} {_github_message(resp)}"
                raise MaybeDoneError(output.redact(" ".join(f"{method} {shown}: {what}".split())))
            if self._out_of_budget(attempt, waited, delay):
                raise self._give_up(method, shown, resp, failure, attempt, waited, delay)
            self._sleep(delay)
            waited += delay

    def retry_maybe_done(self, write: Callable[[int], T]) -> T:
        """Call `write(attempt)` again, after a backoff, each time it raises MaybeDoneError.

        `write` must look first whether an earlier attempt did it: that is why it was sent
        with `once` rather than retried by request().
        """
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return write(attempt)
            except MaybeDoneError as exc:
                delay = self._backoff(attempt)
                if self._out_of_budget(attempt, waited, delay):
                    raise GitHubError(f"{exc} — {_gave_up(attempt, waited)}") from None
                self._sleep(delay)
                waited += delay

    def _out_of_budget(self, attempt: int, waited: float, delay: float) -> bool:
        return attempt >= self.max_attempts or waited + delay > self.max_wait

    def _safe_text(self, exc: Exception) -> str:
        """The exception's text, unless the token appears in it in any spelling."""
        text = str(exc)
        token = self._token
        if token and any(form in text for form in (token, repr(token)[1:-1], token.strip())):
            return f"{type(exc).__name__}: the token contains a character a header cannot carry"
        return output.redact(f"{type(exc).__name__}: {text}")

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff * 2.0 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    def _retry_delay(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `resp`, or None when retrying cannot help."""
        status = resp.status_code
        headers = resp.headers
        retry_after = _number(headers.get("retry-after"))
        if status in (403, 429):
            if headers.get("x-ratelimit-remaining") == "0":  # primary rate limit
                reset = _number(headers.get("x-ratelimit-reset"))
                if reset is None:
                    return 60.0
                return max(reset - self._clock(), 0.0) + 1.0
            if retry_after is not None:  # secondary rate limit
                return retry_after
            if status == 429 or _SECONDARY_RE.search(_github_message(resp)):
                return max(60.0, self._backoff(attempt))
            return None
        if status >= 500:
            return retry_after if retry_after is not None else self._backoff(attempt)
        return None

    def _give_up(
        self,
        method: str,
        shown: str,
        resp: requests.Response | None,
        failure: str,
        attempt: int,
        waited: float,
        delay: float,
    ) -> GitHubError:
        tries = _tries(attempt)
        gave_up = _gave_up(attempt, waited)
        if resp is None:
            return GitHubError(output.redact(f"{method} {shown}: {failure} — {gave_up}"))
        if resp.status_code in (403, 429):
            reset = _number(resp.headers.get("x-ratelimit-reset"))
            when = ""
            if resp.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
                stamp = datetime.fromtimestamp(reset, timezone.utc).strftime("%H:%M:%S UTC")
                when = f" at {stamp}"
            if waited + delay > self.max_wait:
                gave_up = (
                    f"rate limited: GitHub asks to wait {delay:.0f} s{when}, beyond the "
                    f"{self.max_wait:.0f} s this command waits in total (after {tries})"
                )
            else:
                gave_up = f"still rate limited after {tries} over {waited:.0f} s"
        return self._error(method, shown, resp, None, hint=gave_up)

    def _error(
        self,
        method: str,
        shown: str,
        resp: requests.Response,
        permission: str | None,
        hint: str | None = None,
    ) -> GitHubRequestError:
        status = resp.status_code
        message = _github_message(resp)
        if hint is None:
            hint = _hint(status, permission, has_token=self._token is not None)
        text = f"{method} {shown}: {status} {message}" + (f" — {hint}" if hint else "")
        text = output.redact(" ".join(text.split()))
        return GitHubRequestError(
            text,
            method=method,
            path=shown,
            status=status,
            github_message=output.redact(message),
        )

    def _display(self, url: str) -> str:
        """The path to show in messages: relative to the API URL, without host or query."""
        parts = urlsplit(url)
        path = parts.path
        base = urlsplit(self.api_url)
        if parts.netloc == base.netloc and path.startswith(base.path):
            path = path[len(base.path) :] or "/"
        return path

    def _check_same_service(self, url: str) -> None:
        """Refuse to send the token anywhere but GitHub's API (or its uploads) host."""
        target = urlsplit(url)
        base = urlsplit(self.api_url)
        host, api_host = target.hostname or "", base.hostname or ""
        same = host == api_host
        uploads = api_host.startswith("api.") and host == "uploads." + api_host[4:]
        if target.scheme != base.scheme or not (same or uploads):
            raise GitHubError(
                f"refusing to send the GitHub token to {target.scheme}://{target.netloc}: "
                f"not the API host {base.netloc}"
            )


def _tries(attempt: int) -> str:
    return f"{attempt} attempt{'s' if attempt > 1 else ''}"


def _gave_up(attempt: int, waited: float) -> str:
    return f"gave up after {_tries(attempt)} over {waited:.1f} s"


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _github_message(resp: requests.Response) -> str:
    """GitHub's `message` (with its `errors` details), else the HTTP reason."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        message: str = data["message"]
        details = []
        for item in data.get("errors") or []:
            if isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    details.append(item["message"])
                else:
                    what = ".".join(str(item[k]) for k in ("resource", "field") if k in item)
                    details.append(f"{what} {item.get('code', '')}".strip())
            elif isinstance(item, str):
                details.append(item)
        if details:
            message += f" ({'; '.join(details)})"
        return message
    return resp.reason or "no message"


def _hint(status: int, permission: str | None, *, has_token: bool) -> str:
    if status == 401:
        if not has_token:
            return "no token: set GITHUB_TOKEN (e.g. `env: GITHUB_TOKEN: ${{ github.token }}`)"
        return "the token is invalid or expired; check GITHUB_TOKEN / --token"
    if status == 403:
        if permission:
            return (
                f"the token lacks a permission: give the job `permissions:` `{permission}` "
                "(pull requests from forks only get a read-only token)"
            )
        return "the token lacks a permission for this (forks only get a read-only token)"
    if status == 404:
        what = f" ({permission} needed)" if permission else ""
        return f"not found, or the token has no access to it{what}"
    if status == 410:
        return "gone: the feature is disabled for this repository"
    return ""


def _connection_reason(exc: requests.ConnectionError) -> str:
    m = _ERRNO_RE.search(str(exc))
    if m:
        return m.group(1).strip()
    text = str(exc)
    for known in ("Name or service not known", "Connection refused", "Connection reset"):
        if known in text:
            return known
    return type(exc).__name__

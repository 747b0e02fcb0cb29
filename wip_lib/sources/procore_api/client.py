"""A small Procore REST (v1.0) client: OAuth2 client credentials, pagination, rate limits, retries.

Rules it follows (facts from Procore's API documentation, see ``docs/procore-connector.md``):

- Credentials come from the environment, ``PROCORE_CLIENT_ID`` and ``PROCORE_CLIENT_SECRET``
  (a Developer Portal app's service account / DMSA). They are never printed or logged: reprs and
  error messages show at most the last four characters of the client id, nothing of the secret.
- Hosts: ``PROCORE_API_BASE`` (default ``https://api.procore.com``) and ``PROCORE_LOGIN_BASE``
  (default ``https://login.procore.com``); the sandbox, or a test server on loopback, is chosen
  there. The token is ``POST {login}/oauth/token`` with ``grant_type=client_credentials``; it lives
  ``expires_in`` seconds (5,400) and has no refresh token, so a new one is fetched shortly before
  it expires, and once more if the API answers 401 (revoked or expired early).
- Every request sends ``Authorization: Bearer`` and ``Procore-Company-Id``.
- Lists are paged with ``page`` / ``per_page``; ``per_page`` is at most :data:`MAX_PER_PAGE`
  (2,000: "we recommend keeping per_page at or below 2,000", Procore's pagination page). The next
  page is the ``Link: rel="next"`` URL when the response has a Link header (followed only on the
  API's own host, so the token never goes elsewhere; a query parameter of the first request that
  the link leaves out, such as ``project_id``, is sent again with it); else pages continue until
  ``Total`` items are read; else until a short page. A page that repeats the previous one (an
  endpoint that does not page answers every ``page`` alike) ends the list.
- Rate limits: Procore has an hourly limit and a 10-second spike limit, and its headers report
  whichever is closer, so no window is assumed. 429 means sleep until ``X-Rate-Limit-Reset``
  (epoch seconds; ``Retry-After`` or backoff when absent) and try again; when
  ``X-Rate-Limit-Remaining`` reaches 0 the next call waits for the reset first instead of spending
  a 429.
- 500, 502, 503, 504 and network errors are retried with exponential backoff
  (``backoff * 2**attempt`` seconds, ``max_retries`` times); a 503's ``Retry-After`` (seconds)
  is waited out when longer (Procore answers 503 under heavy load and says how long to wait).
- 401, 403, 404 and unexpected bodies become the typed errors of :mod:`.errors`.

JSON is parsed with numbers as :class:`~decimal.Decimal` so money never passes through a float.
``sleep`` and ``clock`` are injectable: tests run rate-limit waits and token expiry instantly.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from wip_lib.sources.procore_api.errors import (CredentialsError, NotFound, PermissionDenied,
                                        ProcoreError, RateLimited, ResponseShapeError, ServerError,
                                        mask, register_secret, scrub)

log = logging.getLogger(__name__)

API_BASE = "https://api.procore.com"
LOGIN_BASE = "https://login.procore.com"
ENV_ID, ENV_SECRET = "PROCORE_CLIENT_ID", "PROCORE_CLIENT_SECRET"
ENV_API, ENV_LOGIN = "PROCORE_API_BASE", "PROCORE_LOGIN_BASE"
RETRY_STATUS = frozenset({500, 502, 503, 504})
TOKEN_LIFETIME = 5400  # seconds, when the token response does not say
MAX_PAGES = 100_000  # a list that never ends is a broken server, not a big company
MAX_PER_PAGE = 2000  # Procore's recommended ceiling (plan_your_app/pagination.md)


@dataclass(frozen=True)
class Credentials:
    """A service account's client id and secret. The repr never shows the secret."""

    client_id: str
    client_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        return f"Credentials(client_id={mask(self.client_id)!r}, client_secret='****')"

    __str__ = __repr__

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Credentials":
        """Read ``PROCORE_CLIENT_ID`` / ``PROCORE_CLIENT_SECRET``; a clear error names the
        missing one (never its value)."""
        env = os.environ if env is None else env
        cid, secret = env.get(ENV_ID, "").strip(), env.get(ENV_SECRET, "").strip()
        missing = [n for n, v in ((ENV_ID, cid), (ENV_SECRET, secret)) if not v]
        if missing:
            raise CredentialsError(
                f"{' and '.join(missing)} not set. Create a service account (Developer Portal app "
                f"with client credentials, see docs/procore-connector.md) and export "
                f"{ENV_ID} and {ENV_SECRET} in the shell that runs wip; never put them in a file "
                f"the workbook or a notebook writes.")
        return cls(cid, secret)


def _base(value: str | None, env_name: str, default: str) -> str:
    return (value or os.environ.get(env_name) or default).rstrip("/")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _procore_message(resp: requests.Response) -> str:
    """Procore's own error text (``errors`` / ``message`` / ``error_description``), scrubbed and
    cut short; '' when the body says nothing useful."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("errors", "message", "error_description", "error"):
            if body.get(key):
                text = body[key]
                text = "; ".join(map(str, text)) if isinstance(text, list) else str(text)
                return scrub(text)[:300]
    return ""


class ProcoreClient:
    """GET-only client for one Procore company.

    ``get`` returns one parsed JSON document; ``pages`` yields each page of a list endpoint;
    ``list`` gathers them. ``requests_made`` counts HTTP calls (token calls included), for the
    summary a pull prints.
    """

    def __init__(self, company_id: int | str, credentials: Credentials | None = None, *,
                 api_base: str | None = None, login_base: str | None = None,
                 per_page: int = 100, max_retries: int = 4, backoff: float = 1.0,
                 max_rate_waits: int = 20, max_wait: float = 3700.0, timeout: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None):
        self.company_id = str(company_id)
        self._credentials = credentials or Credentials.from_env()
        self.api_base = _base(api_base, ENV_API, API_BASE)
        self.login_base = _base(login_base, ENV_LOGIN, LOGIN_BASE)
        self.per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_rate_waits = int(max_rate_waits)
        self.max_wait = float(max_wait)
        self.timeout = float(timeout)
        self._sleep, self._clock = sleep, clock
        self._session = session or requests.Session()
        self._token: str | None = None
        self._expires_at = 0.0
        self._pause_until = 0.0  # set when X-Rate-Limit-Remaining reached 0
        self.requests_made = 0
        self.tokens_fetched = 0
        self.waited = 0.0  # seconds slept for rate limits and retries

    def __repr__(self) -> str:
        return (f"ProcoreClient(company_id={self.company_id}, api_base={self.api_base!r}, "
                f"client_id={mask(self._credentials.client_id)!r})")

    # -- token --------------------------------------------------------------------------------

    def _fetch_token(self) -> None:
        url = f"{self.login_base}/oauth/token"
        data = {"grant_type": "client_credentials", "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret}
        resp = self._send(lambda: self._session.post(url, data=data, timeout=self.timeout),
                          "/oauth/token")
        if resp.status_code in (400, 401, 403):
            said = _procore_message(resp)
            shown = mask(self._credentials.client_id)
            raise CredentialsError(
                f"Procore refused the client credentials (client id {shown}, "
                f"HTTP {resp.status_code}{': ' + said if said else ''}). Check {ENV_ID} and "
                f"{ENV_SECRET}: copy them again from the app's service account in the Developer "
                f"Portal, and use the sandbox's own credentials against a sandbox host.",
                "/oauth/token")
        self._raise_for_status(resp, "/oauth/token")
        body = self._json(resp, "/oauth/token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise ResponseShapeError("Procore's token endpoint answered without an access_token; "
                                     f"check {ENV_LOGIN} points at the Procore login host.",
                                     "/oauth/token")
        register_secret(str(token))
        lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
        self._token = str(token)
        self._expires_at = self._clock() + lifetime - min(60.0, lifetime / 10)
        self.tokens_fetched += 1

    def _bearer(self) -> str:
        if self._token is None or self._clock() >= self._expires_at:
            self._fetch_token()
        return self._token  # type: ignore[return-value]

    # -- one request with retries ---------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        seconds = max(0.0, min(seconds, self.max_wait))
        if seconds:
            self.waited += seconds
            self._sleep(seconds)

    def _send(self, do: Callable[[], requests.Response], endpoint: str) -> requests.Response:
        """Run ``do`` until it returns a response that is neither a 429 nor a transient 5xx."""
        attempt = rate_waits = 0
        while True:
            if self._pause_until > self._clock():
                self._wait(self._pause_until - self._clock() + 1)
            try:
                self.requests_made += 1
                resp = do()
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.max_retries:
                    raise ServerError(f"could not reach Procore for {endpoint} after "
                                      f"{attempt + 1} tries ({type(exc).__name__}); check the "
                                      f"network and {ENV_API}.", endpoint) from None
                self._wait(self.backoff * 2 ** attempt)
                attempt += 1
                continue
            self._note_rate_limit(resp)
            if resp.status_code == 429:
                rate_waits += 1
                if rate_waits > self.max_rate_waits:
                    raise RateLimited(f"Procore kept answering 429 (rate limit) for {endpoint} "
                                      f"after {self.max_rate_waits} waits; the company's hourly "
                                      "and 10-second limits are shared with its other "
                                      "integrations: try later.", endpoint)
                self._wait(self._reset_wait(resp, rate_waits))
                continue
            if resp.status_code in RETRY_STATUS and attempt < self.max_retries:
                log.info("Procore answered %s for %s; retrying", resp.status_code, endpoint)
                wait = self.backoff * 2 ** attempt
                retry_after = (resp.headers.get("Retry-After") or "").strip()
                if resp.status_code == 503 and retry_after.isdigit():
                    wait = max(wait, float(retry_after))
                self._wait(wait)
                attempt += 1
                continue
            return resp

    def _note_rate_limit(self, resp: requests.Response) -> None:
        remaining = resp.headers.get("X-Rate-Limit-Remaining")
        reset = resp.headers.get("X-Rate-Limit-Reset")
        if remaining is not None and reset and remaining.strip() == "0":
            try:
                self._pause_until = float(reset)
            except ValueError:
                pass

    def _reset_wait(self, resp: requests.Response, n: int) -> float:
        reset = resp.headers.get("X-Rate-Limit-Reset")
        if reset:
            try:
                return float(reset) - self._clock() + 1
            except ValueError:
                pass
        retry_after = resp.headers.get("Retry-After")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        return self.backoff * 2 ** n

    def _raise_for_status(self, resp: requests.Response, endpoint: str) -> None:
        code = resp.status_code
        if code < 400:
            return
        said = _procore_message(resp)
        if code == 403:
            raise PermissionDenied(endpoint, self.company_id, said)
        if code == 404:
            raise NotFound(f"Procore found nothing at GET {endpoint} for company "
                           f"{self.company_id} (404){': ' + said if said else ''}. Check the "
                           "company and project ids (the project must exist in this company and "
                           "the service account must be on its directory).", endpoint)
        if code == 401:
            raise CredentialsError(f"Procore refused the access token for {endpoint} twice (401)"
                                   f"{': ' + said if said else ''}. The app may have been "
                                   f"uninstalled or its secret rotated: check {ENV_ID} and "
                                   f"{ENV_SECRET}.", endpoint)
        if code >= 500:
            raise ServerError(f"Procore failed on {endpoint} (HTTP {code}) after "
                              f"{self.max_retries + 1} tries; try again later.", endpoint)
        raise ProcoreError(f"Procore refused GET {endpoint} (HTTP {code})"
                           f"{': ' + said if said else ''}.", endpoint)

    def _json(self, resp: requests.Response, endpoint: str) -> Any:
        try:
            return json.loads(resp.content or b"null", parse_float=Decimal)
        except ValueError:
            kind = resp.headers.get("Content-Type", "no content type")
            raise ResponseShapeError(f"Procore answered {endpoint} with something that is not "
                                     f"JSON ({kind}); check {ENV_API} points at the API host.",
                                     endpoint) from None

    def _get(self, url: str, params: Mapping[str, Any] | None, endpoint: str
             ) -> requests.Response:
        def do() -> requests.Response:
            # the bearer is read on every try: a long rate-limit wait may outlive the token
            headers = {"Authorization": f"Bearer {self._bearer()}",
                       "Procore-Company-Id": self.company_id, "Accept": "application/json"}
            return self._session.get(url, params=params, headers=headers, timeout=self.timeout)

        resp = self._send(do, endpoint)
        if resp.status_code == 401:
            self._token = None  # expired or revoked early: one new token, one more try
            resp = self._send(do, endpoint)
        self._raise_for_status(resp, endpoint)
        return resp

    # -- public ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.api_base}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One GET; the parsed JSON (numbers as Decimal)."""
        return self._json(self._get(self.url(path), params, path), path)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict]]:
        """Each non-empty page of a list endpoint, as a list of objects (see the module rules)."""
        base_url = self.url(path)
        base_query = {**(params or {}), "per_page": self.per_page}
        api_origin = _origin(self.api_base)
        url, query = base_url, {**base_query, "page": 1}
        page = seen = 0
        per_page = self.per_page
        last_ids: list | None = None
        while True:
            page += 1
            if page > MAX_PAGES:
                raise ResponseShapeError(f"GET {path} did not stop after {MAX_PAGES} pages.", path)
            resp = self._get(url, query, path)
            body = self._json(resp, path)
            if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
                raise ResponseShapeError(
                    f"Procore answered GET {path} with {type(body).__name__} where a list of "
                    f"objects was expected (page {page}).", path)
            if not body:
                return
            ids = [x.get("id") for x in body]
            if page > 1 and ids == last_ids and None not in ids:
                log.info("GET %s repeated page %s: it does not page; list ended", path, page - 1)
                return
            last_ids = ids
            seen += len(body)
            yield body
            if (resp.headers.get("Per-Page") or "").strip().isdigit():
                per_page = int(resp.headers["Per-Page"])
            total = (resp.headers.get("Total") or "").strip()
            if "Link" in resp.headers:
                nxt = resp.links.get("next", {}).get("url")
                if not nxt:
                    return
                nxt = urljoin(url, nxt)
                if _origin(nxt) == api_origin:
                    said = parse_qs(urlsplit(nxt).query)
                    left_out = {k: v for k, v in base_query.items()
                                if k not in said and k not in ("page", "per_page")}
                    url, query = nxt, (left_out or None)
                    continue
                # A next link on another host: the token stays here; count pages ourselves.
            elif total.isdigit():
                if seen >= int(total):
                    return
            elif len(body) < per_page:
                return
            url, query = base_url, {**base_query, "page": page + 1}

    def list(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """Every object of a list endpoint, all pages in order."""
        out: list[dict] = []
        for page in self.pages(path, params):
            out.extend(page)
        return out

"""The solvertune REST API client (standard library only).

>>> client = solvertune.Client()                       # $SOLVERTUNE_URL, $SOLVERTUNE_TOKEN
>>> cfg = client.config("my-model:recommended?nfe=8&guidance=7.5")
>>> x0 = solvertune.sample(cfg, model, x_T, condition=c, unconditional_condition=u)

Config references (:meth:`Client.config`, the ComfyUI nodes, ``SolvertuneScheduler.from_config_id``):

* ``42`` or ``"42"`` -- config id 42;
* ``"<model>:latest"`` / ``"<model>:stable"`` with optional filters ``?method=dc&solver=unipc&nfe=8&guidance=7.5
  &spacing=logSNR`` -- the alias of the one key the filters select;
* ``"<model>:recommended?nfe=8&guidance=7.5"`` -- the lowest held-out error at (model, NFE, guidance).

``<model>`` is a model id or name. Responses with an ETag (config documents, aliases, exports) are cached on disk
(``$SOLVERTUNE_CACHE`` or ``~/.cache/solvertune``); a repeated request sends ``If-None-Match`` and a 304 reuses the
cached body. Errors raise :class:`~solvertune.ApiError` (or a subclass) carrying the problem details.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping

from .config import Config
from .errors import (ApiError, AuthenticationError, ConfigError, JobFailedError, NotFoundError,
                     PermissionDeniedError, SolvertuneError)

DEFAULT_URL = "http://localhost:8080"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


class Response:
    """A response: status, headers (lower-case names), body bytes, and whether the body came from the cache (a
    304 answer to ``If-None-Match``: status 304, the cached body)."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, from_cache: bool = False):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.from_cache = from_cache

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Client:
    """A client of one solvertune service.

    Args:
        url: the service's base URL (default ``$SOLVERTUNE_URL`` or ``http://localhost:8080``).
        token: a bearer token (default ``$SOLVERTUNE_TOKEN``; without one only anonymous-read models are visible).
        cache_dir: where ETag-cached responses live (default ``$SOLVERTUNE_CACHE`` or ``~/.cache/solvertune``);
            ``False`` disables the cache.
        timeout: seconds per request.
    """

    def __init__(self, url: str | None = None, token: str | None = None, cache_dir: str | os.PathLike | bool | None = None,
                 timeout: float = 60.0):
        self.url = (url or os.environ.get("SOLVERTUNE_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else os.environ.get("SOLVERTUNE_TOKEN")
        if cache_dir is False:
            self.cache_dir = None
        else:
            default = os.environ.get("SOLVERTUNE_CACHE") or Path(os.environ.get(
                "XDG_CACHE_HOME", Path.home() / ".cache")) / "solvertune"
            self.cache_dir = Path(cache_dir if cache_dir not in (None, True) else default)
        self.timeout = timeout
        self.last_response: Response | None = None

    def __repr__(self) -> str:
        return f"Client({self.url!r}, token={'set' if self.token else 'none'})"

    # ---- HTTP ----------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None,
                headers: Mapping[str, str] | None = None, cached: bool = False) -> Response:
        """One request; ``body`` is sent as JSON; ``cached`` GETs go through the ETag cache."""
        url = self._url(path, params)
        h = {"Accept": "application/json, application/problem+json, */*"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        entry = self._cache_read(url) if cached and method == "GET" else None
        if entry is not None:
            h["If-None-Match"] = entry["etag"]
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                resp = Response(r.status, dict(r.headers.items()), r.read())
        except urllib.error.HTTPError as e:
            if e.code == 304 and entry is not None:
                headers304 = dict(entry["headers"])
                headers304.update({k.lower(): v for k, v in e.headers.items()})
                resp = Response(304, headers304, entry["body"], from_cache=True)
                self.last_response = resp
                return resp
            raise self._error(e, url) from None
        except urllib.error.URLError as e:
            raise SolvertuneError(f"cannot reach the solvertune service at {self.url}: {e.reason}") from None
        if cached and method == "GET" and "etag" in resp.headers:
            self._cache_write(url, resp)
        self.last_response = resp
        return resp

    def _url(self, path: str, params: Mapping[str, Any] | None) -> str:
        url = path if path.startswith("http") else self.url + path
        if params:
            q = {k: _param(v) for k, v in params.items() if v is not None}
            if q:
                url += ("&" if "?" in url else "?") + urllib.parse.urlencode(q)
        return url

    @staticmethod
    def _error(e: urllib.error.HTTPError, url: str) -> ApiError:
        raw = e.read()
        problem: dict
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else {}
            problem = parsed if isinstance(parsed, dict) else {"detail": str(parsed)}
        except (ValueError, UnicodeDecodeError):
            problem = {"detail": raw[:500].decode("utf-8", "replace")}
        problem.setdefault("status", e.code)
        problem.setdefault("title", e.reason)
        cls = {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError}.get(e.code, ApiError)
        return cls(e.code, problem, url)

    def _cache_path(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / hashlib.sha256(url.encode("utf-8")).hexdigest()

    def _cache_read(self, url: str) -> dict | None:
        p = self._cache_path(url)
        if p is None:
            return None
        try:
            meta = json.loads(p.with_suffix(".json").read_text("utf-8"))
            body = p.with_suffix(".body").read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url or hashlib.sha256(body).hexdigest() != meta.get("bodySha256"):
            return None
        return {"etag": meta["etag"], "headers": meta.get("headers", {}), "body": body}

    def _cache_write(self, url: str, resp: Response) -> None:
        p = self._cache_path(url)
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            keep = {k: v for k, v in resp.headers.items() if k in ("etag", "content-type", "content-disposition",
                                                                   "x-config-id", "x-config-version")}
            tmp = p.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(resp.body)
            os.replace(tmp, p.with_suffix(".body"))
            tmp.write_text(json.dumps({"url": url, "etag": resp.headers["etag"], "headers": keep,
                                       "bodySha256": hashlib.sha256(resp.body).hexdigest()}), "utf-8")
            os.replace(tmp, p.with_suffix(".json"))
        except OSError:
            pass  # a cache that cannot be written only costs a download

    def _pages(self, path: str, params: dict, cursor: str, param: str) -> Iterator[dict]:
        params = dict(params)
        while True:
            page = self.request("GET", path, params).json()
            yield from page.get("items", [])
            nxt = page.get(cursor)
            if nxt is None:
                return
            params[param] = nxt

    # ---- identity, models ----------------------------------------------------------------------------------------

    def whoami(self) -> dict:
        return self.request("GET", "/api/v1/whoami").json()

    def models(self) -> list[dict]:
        """Every model the token may see."""
        return list(self._pages("/api/v1/models", {}, "nextAfter", "after"))

    def model(self, id_or_name: Any) -> dict:
        """One model (its ``schedule``, ``predictionType``, ``inputShape`` ...)."""
        return self.request("GET", f"/api/v1/models/{_seg(id_or_name)}").json()

    # ---- configs -------------------------------------------------------------------------------------------------

    def configs(self, model: Any = None, method: str | None = None, solver: str | None = None, nfe: int | None = None,
                guidance: float | None = None, spacing: str | None = None) -> list[dict]:
        """Summaries of the published configs matching the filters (every page)."""
        params = {"model": model, "method": method, "solver": solver, "nfe": nfe, "guidance": guidance,
                  "spacing": spacing}
        return list(self._pages("/api/v1/configs", params, "nextAfter", "after"))

    def config(self, ref: Any) -> Config:
        """A config by id or reference (module docstring), ETag-cached."""
        if isinstance(ref, Config):
            return ref
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            return self.config_by_id(int(ref))
        if not isinstance(ref, str) or ":" not in ref:
            raise ConfigError(f"config reference {ref!r}: expected an id, '<model>:latest', '<model>:stable' or "
                              "'<model>:recommended?nfe=N&guidance=G'")
        head, _, query = ref.strip().partition("?")
        model, _, alias = head.rpartition(":")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=False))
        if alias == "recommended":
            if "nfe" not in params:
                raise ConfigError(f"config reference {ref!r}: 'recommended' needs ?nfe=N (and &guidance=G)")
            unknown = set(params) - {"nfe", "guidance"}
            if unknown:
                raise ConfigError(f"config reference {ref!r}: 'recommended' takes nfe and guidance, not {sorted(unknown)}")
            return self.recommended(model, int(params["nfe"]), float(params.get("guidance", 1.0)))
        if alias in ("latest", "stable"):
            unknown = set(params) - {"method", "solver", "nfe", "guidance", "spacing"}
            if unknown:
                raise ConfigError(f"config reference {ref!r}: unknown filters {sorted(unknown)} (method, solver, nfe, "
                                  "guidance, spacing)")
            return self.alias(model, alias, **params)
        raise ConfigError(f"config reference {ref!r}: unknown alias '{alias}' (latest, stable or recommended)")

    def config_by_id(self, config_id: int) -> Config:
        return self._config(self.request("GET", f"/api/v1/configs/{int(config_id)}", cached=True))

    def alias(self, model: Any, alias: str = "latest", **filters: Any) -> Config:
        """The config ``alias`` (``latest`` or ``stable``) of the one key of ``model`` the filters select."""
        r = self.request("GET", f"/api/v1/models/{_seg(model)}/configs/{_seg(alias)}", filters, cached=True)
        return self._config(r)

    def recommended(self, model: Any, nfe: int, guidance: float = 1.0) -> Config:
        """The recommended config (lowest held-out error) for (model, NFE, guidance)."""
        r = self.request("GET", "/api/v1/configs/best", {"model": model, "nfe": nfe, "guidance": guidance},
                         cached=True)
        return self._config(r)

    def _config(self, r: Response) -> Config:
        cfg = Config(r.json())
        if cfg.schedule_spec() is None:
            model_id = (cfg.document.get("model") or {}).get("id")
            if model_id is not None:
                cfg.model_schedule = self.model(model_id).get("schedule")
                self.last_response = r  # the config's response, not the model's
        return cfg

    def promote(self, config_id: int) -> dict:
        """Points the config's key's ``stable`` alias at it (admin)."""
        return self.request("PUT", f"/api/v1/configs/{int(config_id)}/stable").json()

    def exports(self, config_id: int) -> dict:
        """Every export format of a config with its verdict: supported formats carry the consumer call that reproduces
        the validated run (``consumer``, ``entryPoint``, ``code``, ``notes``); refused ones the ``reason`` and the
        ``alternatives`` that work. :meth:`download` of a refused format raises :class:`ApiError` with status 409."""
        return self.request("GET", f"/api/v1/configs/{int(config_id)}/exports", cached=True).json()

    def download(self, config_id: int, format: str = "json", path: str | os.PathLike | None = None) -> bytes | Path:
        """An export (``json``, ``diffusers``, ``k-diffusion``, ``comfyui``, ``dpmsolver-v3``, ``dc-ratios``,
        ``dc-cpr``): its bytes, or -- with ``path`` (a file, or a directory for the server's file name) -- the file
        written. ETag-cached. A format whose consumer would not reproduce the config raises :class:`ApiError` (409;
        its ``problem["errors"]`` name the formats that do; :meth:`exports` lists every verdict)."""
        r = self.request("GET", f"/api/v1/configs/{int(config_id)}/export/{_seg(format)}", cached=True)
        if path is None:
            return r.body
        target = Path(path)
        if target.is_dir():
            name = _filename(r.headers.get("content-disposition")) or f"config-{config_id}-{format}"
            target = target / name
        target.write_bytes(r.body)
        return target

    # ---- jobs ----------------------------------------------------------------------------------------------------

    def submit(self, spec: Mapping[str, Any] | str | os.PathLike, idempotency_key: str | None = None) -> dict:
        """Submits a tuning job (a spec mapping, or the path of a JSON spec); returns the job."""
        if not isinstance(spec, Mapping):
            spec = json.loads(Path(spec).read_text("utf-8"))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/api/v1/jobs", body=dict(spec), headers=headers).json()

    def job(self, job_id: int) -> dict:
        return self.request("GET", f"/api/v1/jobs/{int(job_id)}").json()

    def jobs(self, state: str | None = None) -> list[dict]:
        return list(self._pages("/api/v1/jobs", {"state": state}, "nextBefore", "before"))

    def cancel(self, job_id: int) -> dict:
        return self.request("POST", f"/api/v1/jobs/{int(job_id)}/cancel").json()

    def logs(self, job_id: int, after: int | None = None) -> dict:
        return self.request("GET", f"/api/v1/jobs/{int(job_id)}/logs", {"after": after}).json()

    def wait(self, job_id: int, interval: float = 1.0, timeout: float | None = None, progress: bool = True,
             file: Any = None) -> dict:
        """Polls a job until it ends, drawing a progress bar on ``file`` (stderr); returns the job if it
        SUCCEEDED, else raises :class:`~solvertune.JobFailedError` (``TimeoutError`` after ``timeout`` seconds)."""
        out = file if file is not None else sys.stderr
        start = time.monotonic()
        drawn = False
        while True:
            job = self.job(job_id)
            if progress:
                out.write("\r" + progress_line(job))
                out.flush()
                drawn = True
            if job.get("state") in TERMINAL_STATES:
                break
            if timeout is not None and time.monotonic() - start > timeout:
                if drawn:
                    out.write("\n")
                raise TimeoutError(f"job {job_id} is still {job.get('state')} after {timeout} s")
            time.sleep(interval)
        if drawn:
            out.write("\n")
            out.flush()
        if job.get("state") != "SUCCEEDED":
            raise JobFailedError(job)
        return job

    def result(self, job_id: int) -> dict:
        """The result of a finished job (``configIds``: the configs it published, ``output``)."""
        job = self.job(job_id)
        if job.get("state") != "SUCCEEDED":
            raise JobFailedError(job) if job.get("state") in TERMINAL_STATES else SolvertuneError(
                f"job {job_id} is {job.get('state')}: no result yet")
        return job.get("result") or {}

    def published_configs(self, job_id: int) -> list[Config]:
        """The configs a succeeded job published."""
        return [self.config_by_id(i) for i in self.result(job_id).get("configIds", [])]


def progress_line(job: Mapping[str, Any], width: int = 30) -> str:
    """``job 7 RUNNING [#########-----] 42% 3/7 stages eta 12s (fit-dc)``."""
    p = job.get("progress") or {}
    frac = float(p.get("fraction") or 0.0)
    if job.get("state") == "SUCCEEDED":
        frac = 1.0
    filled = int(round(frac * width))
    line = f"job {job.get('id')} {job.get('state')} [{'#' * filled}{'-' * (width - filled)}] {frac * 100:3.0f}%"
    if p.get("stagesTotal") is not None:
        line += f" {p.get('stagesSucceeded', 0)}/{p['stagesTotal']} stages"
    if p.get("etaSeconds") is not None:
        line += f" eta {p['etaSeconds']}s"
    if p.get("running"):
        line += f" ({', '.join(p['running'])})"
    return line


def _param(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _seg(v: Any) -> str:
    return urllib.parse.quote(str(v), safe="")


def _filename(disposition: str | None) -> str | None:
    if not disposition or "filename=" not in disposition:
        return None
    name = disposition.split("filename=", 1)[1].strip().strip('"')
    return os.path.basename(name) or None

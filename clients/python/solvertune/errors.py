"""Exceptions raised by the solvertune package.

Every error names what is wrong; errors from the service carry the RFC 9457 problem details it returned.
"""

from __future__ import annotations

from typing import Any, Mapping


class SolvertuneError(Exception):
    """Base class of every error raised by this package."""


class ConfigError(SolvertuneError, ValueError):
    """A config document (or an argument given with it) cannot be run as it stands."""


class ApiError(SolvertuneError):
    """The service answered with an error.

    Attributes:
        status: the HTTP status code.
        problem: the problem details document (``type``, ``title``, ``status``, ``detail``, ``instance`` and, for
            validation errors, ``errors``), or a minimal one built from the response when the body was not
            ``application/problem+json``.
        url: the request URL.
    """

    def __init__(self, status: int, problem: Mapping[str, Any], url: str):
        self.status = int(status)
        self.problem = dict(problem)
        self.url = url
        title = self.problem.get("title") or "HTTP error"
        detail = self.problem.get("detail")
        message = f"{self.status} {title}"
        if detail:
            message += f": {detail}"
        errors = self.problem.get("errors")
        if errors:
            message += f" (errors: {errors})"
        message += f" [{url}]"
        super().__init__(message)

    @property
    def title(self) -> str | None:
        return self.problem.get("title")

    @property
    def detail(self) -> str | None:
        return self.problem.get("detail")

    @property
    def errors(self) -> Any:
        return self.problem.get("errors")


class AuthenticationError(ApiError):
    """401: no token, or an unknown or revoked one."""


class PermissionDeniedError(ApiError):
    """403: the token's role is too weak for the request."""


class NotFoundError(ApiError):
    """404: no such model, config, job or alias."""


class JobFailedError(SolvertuneError):
    """A waited-for job ended in a state other than succeeded.

    Attributes:
        job: the job document as the service last returned it.
    """

    def __init__(self, job: Mapping[str, Any]):
        self.job = dict(job)
        state = self.job.get("state")
        error = self.job.get("error")
        super().__init__(f"job {self.job.get('id')} ended {state}" + (f": {error}" if error else ""))

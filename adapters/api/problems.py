"""Errors of the integration API as problem details (RFC 9457, `application/problem+json`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

from aiohttp import web
from pydantic import ValidationError

from adapters.api.models import FieldProblem, Problem
from adapters.text import well_formed
from storage.errors import ChatOpsError

PROBLEM_JSON = "application/problem+json"
# The detail of every 404 for a ticket: one that does not exist and another customer's alike.
NO_SUCH_TICKET = "no such ticket"


class ApiProblem(ChatOpsError):
    """Answer the request with this problem (a 4xx the caller can act on)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def response(self, instance: str) -> web.Response:
        """The problem as an HTTP response."""
        return problem_response(
            self.status, self.detail, instance=instance, errors=self.errors, headers=self.headers
        )


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """`application/problem+json` with the status's standard phrase as the title."""
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) or None,
    )
    return web.Response(
        status=status,
        body=body.model_dump_json(exclude_none=True).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def invalid(exc: ValidationError, *, where: str = "") -> ApiProblem:
    """422 naming every field that does not fit (`where`: a prefix, e.g. `query:`)."""
    errors = [
        FieldProblem(pointer=where + _pointer(error["loc"]), detail=_safe(error["msg"]))
        for error in exc.errors(include_url=False, include_input=False)
    ]
    return ApiProblem(422, "the request does not fit the API's schema", errors=errors[:50])


def _pointer(location: tuple[int | str, ...]) -> str:
    # A JSON pointer (RFC 6901) into the body; pydantic adds the union member's tag as a step.
    steps = [well_formed(str(step)).replace("~", "~0").replace("/", "~1") for step in location]
    return "/" + "/".join(steps) if steps else ""


def _safe(message: str) -> str:
    """Pydantic's messages may quote what was sent; keep them short."""
    return well_formed(message[:300])

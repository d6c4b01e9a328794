"""The OpenAPI 3.1 document, assembled from the operation table and the pydantic models the
handlers validate with (no text of the document is written by hand)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from adapters.api.auth import SCOPES
from adapters.api.models import Problem
from adapters.api.problems import PROBLEM_JSON

REF = "#/components/schemas/{model}"
Method = Literal["GET", "POST", "PATCH"]


@dataclass(frozen=True, slots=True)
class Spec:
    """What the document says about one operation (the service adds how it runs)."""

    method: Method
    path: str
    operation_id: str
    summary: str
    scope: str
    answer: type[BaseModel] | None
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_types: tuple[str, ...] = ("application/json",)
    idempotent: bool = False
    conflicts: bool = False
    description: str = ""

    @property
    def has_number(self) -> bool:
        """True when the path names a ticket."""
        return "{number}" in self.path

    def problems(self) -> list[int]:
        """The 4xx answers this operation may give."""
        found = [401, 403, 429]
        if self.query is not None or self.body is not None or self.idempotent:
            found += [400, 422]
        if self.has_number:
            found.append(404)
        if self.body is not None:
            found += [413, 415]
        if self.conflicts or self.idempotent:
            found.append(409)
        return sorted(found)


def document(
    specs: Sequence[Spec],
    *,
    title: str,
    version: str,
    base: str,
    webhooks: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `specs`, served under `base` (e.g. `/api/v1`), with the
    outbound events as its `webhooks` section (the section and its component schemas)."""
    refs, schemas = _schemas(specs)
    events, event_schemas = webhooks or ({}, {})
    clashes = {
        name
        for name in event_schemas
        if schemas.get(name, event_schemas[name]) != event_schemas[name]
    }
    if clashes:
        raise ValueError(f"webhook schemas clash with the API's: {sorted(clashes)}")
    schemas = {**schemas, **event_schemas}
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Tickets, SLA state, events and reports for the provider's other "
            "systems. Errors are problem details (RFC 9457). Scopes: "
            + "; ".join(f"`{name}`: {what}" for name, what in SCOPES.items())
            + ".",
        },
        "servers": [{"url": base}],
        "paths": paths,
        **({"webhooks": events} if events else {}),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


# Keyed by (model, mode); pydantic's own key type names a private class.
Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _schemas(specs: Iterable[Spec]) -> tuple[Refs, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for spec in specs:
        if spec.body is not None:
            wanted.append((spec.body, "validation"))
        if spec.answer is not None:
            wanted.append((spec.answer, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(unique, ref_template=REF)
    return dict(refs), dict(top.get("$defs", {}))


def _operation(spec: Spec, refs: Refs) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "description": (spec.description + f"\n\nNeeds the scope `{spec.scope}`.").strip(),
        "parameters": _parameters(spec),
        "responses": _responses(spec, refs),
    }
    if spec.body is not None:
        schema = refs[(spec.body, "validation")]
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media in spec.body_types},
        }
    return operation


def _parameters(spec: Spec) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if spec.has_number:
        found.append(
            {
                "name": "number",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 32, "example": "CCS-2026-000123"},
            }
        )
    if spec.path.endswith("/files/{sha256}"):
        found.append(
            {
                "name": "sha256",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 64},
            }
        )
    if spec.query is not None:
        schema = spec.query.model_json_schema(ref_template=REF, mode="validation")
        required = set(schema.get("required", ()))
        for name, field in schema.get("properties", {}).items():
            found.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": _without_null(field),
                    **({"description": field["description"]} if "description" in field else {}),
                }
            )
    if spec.idempotent:
        found.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "the same key and body within 24 h get the same answer; the "
                "same key with another body gets 422, while the first is still worked on 409",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    return found


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: keep only the non-null alternative."""
    options = [o for o in field.get("anyOf", ()) if o.get("type") != "null"]
    kept = {k: v for k, v in field.items() if k not in ("anyOf", "default", "description")}
    if len(options) == 1:
        kept.update(options[0])
    if "default" in field and field["default"] is not None:
        kept["default"] = field["default"]
    return kept


def _responses(spec: Spec, refs: Refs) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if spec.answer is None:
        found[str(spec.status)] = {
            "description": HTTPStatus(spec.status).phrase,
            "content": {"*/*": {}},  # a file, with the type it was delivered with
        }
    else:
        found[str(spec.status)] = {
            "description": HTTPStatus(spec.status).phrase,
            "content": {"application/json": {"schema": refs[(spec.answer, "serialization")]}},
        }
    problem = refs[(Problem, "serialization")]
    for status in spec.problems():
        answer: dict[str, Any] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": problem}},
        }
        if status == 401:
            answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 429:
            answer["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        found[str(status)] = answer
    return found

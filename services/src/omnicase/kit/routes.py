"""The routes of a resource kept whole through one service: create, list, read, change, delete.

Configuration resources (SLA policies, automations and schedules, routing's skills and
groups) are the same five routes around a service built on the request's session;
:func:`resource_routes` declares them once. What each route publishes (operationId,
summary, description, the problems it may answer, an access check) is the caller's
:class:`Doc`; the shape is here:

- ``POST ""`` → ``service.create(payload)``, 201 with the item;
- ``GET ""`` → ``service.page(cursor, limit)``, a :class:`~omnicase.kit.pagination.Page`;
- ``GET "/{key}"`` → ``service.get(key)``;
- ``PUT "/{key}"`` → ``service.replace(key, payload)`` (the create body), or with ``update``
  given, ``PATCH "/{key}"`` → ``service.update(key, payload)``;
- ``DELETE "/{key}"`` → ``service.delete(key)``, 204.

A route the resource words otherwise (a list with filters) is left out by giving no
:class:`Doc` for it and written beside the others as usual.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ServiceError, problem_responses
from omnicase.kit.pagination import LimitQuery, Page, cursor_query


@dataclass(frozen=True)
class Doc:
    """What one route publishes and checks: its operationId, summary and description, the problems
    it may answer besides those every route of the resource answers, and its dependencies (access)."""

    operation_id: str
    summary: str
    errors: Sequence[type[ServiceError]] = ()
    description: str | None = None
    dependencies: Sequence[Any] = ()


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def resource_routes(
    router: APIRouter,
    service: Callable[[AsyncSession], Any],
    *,
    key: str,
    item: type[BaseModel],
    body: type[BaseModel],
    cursor: Sequence[type],
    create: Doc | None = None,
    list_: Doc | None = None,
    get: Doc | None = None,
    change: Doc | None = None,
    delete: Doc | None = None,
    update: type[BaseModel] | None = None,
    problems: Mapping[int | str, dict[str, Any]] | None = None,
    limit_first: bool = False,
) -> None:
    """Add to ``router`` the routes of the resource ``service(session)`` keeps, in the order above.

    ``key`` names the path parameter (``policy_id``), ``item`` is what the routes answer,
    ``body`` what a create (and a replace) takes, ``update`` a PATCH body (then the change
    is an update, not a replace), ``cursor`` the parts of the list's cursor (as
    :func:`~omnicase.kit.pagination.cursor_query`). ``problems`` are answered by every route
    (the auth problems), before each route's own. ``limit_first``: the list publishes
    ``limit`` before ``cursor``, as the SLA resources first did.
    """
    shared = dict(problems or {})
    session = _parameter("session", SessionDep)
    path_key = _parameter(key, uuid.UUID)

    def add(
        doc: Doc | None,
        method: str,
        path: str,
        call: Callable[..., Awaitable[Any]],
        parameters: list[inspect.Parameter],
        answer: Any,
        status_code: int = status.HTTP_200_OK,
    ) -> None:
        if doc is None:
            return

        async def endpoint(**arguments: Any) -> Any:
            return await call(**arguments)

        endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        endpoint.__name__ = doc.operation_id
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            status_code=status_code,
            response_model=answer,
            operation_id=doc.operation_id,
            summary=doc.summary,
            description=doc.description,
            responses={**shared, **problem_responses(*doc.errors)} or None,
            dependencies=list(doc.dependencies) or None,
        )

    async def create_item(session: AsyncSession, payload: BaseModel) -> Any:
        return await service(session).create(payload)

    async def list_items(session: AsyncSession, cursor: str | None, limit: int) -> Any:
        return await service(session).page(cursor, limit)

    async def get_item(session: AsyncSession, **path: uuid.UUID) -> Any:
        return await service(session).get(path[key])

    async def change_item(session: AsyncSession, payload: BaseModel, **path: uuid.UUID) -> Any:
        changed = service(session)
        return await (changed.update if update else changed.replace)(path[key], payload)

    async def delete_item(session: AsyncSession, **path: uuid.UUID) -> None:
        await service(session).delete(path[key])

    limit = _parameter("limit", LimitQuery, 50)
    page_after = _parameter("cursor", Annotated[str | None, cursor_query(*cursor)], None)
    paging = [limit, page_after] if limit_first else [page_after, limit]
    add(create, "POST", "", create_item, [_parameter("payload", body), session], item, status.HTTP_201_CREATED)
    add(list_, "GET", "", list_items, [session, *paging], Page[item])  # type: ignore[valid-type]
    add(get, "GET", f"/{{{key}}}", get_item, [path_key, session], item)
    add(
        change,
        "PATCH" if update else "PUT",
        f"/{{{key}}}",
        change_item,
        [path_key, _parameter("payload", update or body), session],
        item,
    )
    add(delete, "DELETE", f"/{{{key}}}", delete_item, [path_key, session], None, status.HTTP_204_NO_CONTENT)

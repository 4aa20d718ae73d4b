"""The routes of a resource kept whole through one service: create, list, read, change, delete.

Configuration resources (SLA policies, automations and schedules; routing's skills, groups
and rules; case-core's custom fields, macros, triggers and webhooks; mailboxes; forms) are the
same routes around one service; :func:`resource_routes` declares them once. What each route publishes (operationId,
summary, description, the problems it may answer, who may call it) is the caller's
:class:`Doc`; the shape is here:

- ``POST ""`` → ``create(payload)``, 201 with the item (and its ``Location`` where asked);
- ``GET ""`` → ``page(cursor, limit)``, a :class:`~omnicase.kit.pagination.Page`; or, for a
  resource that is always a short list (custom fields, brands), ``all()``, every item on one page
  (``list_all``);
- ``GET "/{key}"`` → ``get(key)``;
- ``PUT "/{key}"`` → ``replace(key, payload)`` (the create body);
- ``PATCH "/{key}"`` → ``update(key, payload)`` (the ``changes`` body);
- ``DELETE "/{key}"`` → ``delete(key)``, 204.

A service built once per app takes the request's session first in each call
(``with_session``); one built on the session (:func:`built_on_session`) does not. A route the
resource words otherwise (a list with filters) gets no :class:`Doc` here and is written beside
the others; one whose path a key would match (``/runs`` beside ``/{trigger_id}``) is written
before the call, so it matches first.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Response, status
from fastapi.params import Depends as DependsParam
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ServiceError, problem_responses
from omnicase.kit.pagination import LimitQuery, Page, cursor_query

S = TypeVar("S")


@dataclass(frozen=True)
class Doc:
    """What one route publishes and who may call it: its operationId, summary and description, the
    problems it may answer besides those of every route of the router, and its access checks (a
    ``Depends(...)`` is a route dependency, an ``Annotated`` alias a parameter of the route)."""

    operation_id: str
    summary: str
    errors: Sequence[type[ServiceError]] = ()
    description: str | None = None
    dependencies: Sequence[Any] = ()


def built_on_session(service: Callable[[AsyncSession], S]) -> Callable[[AsyncSession], S]:
    """The dependency building ``service`` on the request's session."""

    def build(session: SessionDep) -> S:
        return service(session)

    return build


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def resource_routes(
    router: APIRouter,
    service: Callable[..., Any],
    *,
    key: str,
    item: type[BaseModel],
    body: type[BaseModel],
    cursor: Sequence[type] = (uuid.UUID,),
    create: Doc | None = None,
    list_: Doc | None = None,
    list_all: Doc | None = None,
    get: Doc | None = None,
    replace: Doc | None = None,
    update: Doc | None = None,
    delete: Doc | None = None,
    changes: type[BaseModel] | None = None,
    with_session: bool = False,
    location: bool = False,
    view: str | None = None,
    problems: Mapping[int | str, dict[str, Any]] | None = None,
    limit_first: bool = False,
) -> None:
    """Add to ``router`` the routes of the resource ``service`` (a dependency) keeps, in the order above.

    ``key`` names the path parameter (``policy_id``); ``item`` is what the routes answer: a
    record the service returns is read into it by attribute, or, where the item is more than
    the record (a contact's addresses), made by the service's method named ``view``; ``body``
    what a create and a replace take, ``changes`` what an update takes;
    ``cursor`` the parts of the list's cursor (as :func:`~omnicase.kit.pagination.cursor_query`).
    ``location``: a create answers its item's path in ``Location``. ``problems`` are answered by
    every route, before its own. ``limit_first``: the list publishes ``limit`` before ``cursor``.
    """
    shared = dict(problems or {})
    session = _parameter("session", SessionDep)
    served = _parameter("service", Annotated[Any, Depends(service)])
    path_key = _parameter(key, uuid.UUID)

    async def call(service: Any, session: AsyncSession, method: str, *arguments: Any) -> Any:
        bound = getattr(service, method)
        return await (bound(session, *arguments) if with_session else bound(*arguments))

    def add(
        doc: Doc | None,
        method: str,
        path: str,
        run: Callable[..., Awaitable[Any]],
        parameters: list[inspect.Parameter],
        answer: Any,
        status_code: int = status.HTTP_200_OK,
    ) -> None:
        if doc is None:
            return
        checks = [check for check in doc.dependencies if isinstance(check, DependsParam)]
        access = [
            _parameter(f"_access_{n}", check)
            for n, check in enumerate(doc.dependencies)
            if not isinstance(check, DependsParam)
        ]

        async def endpoint(**arguments: Any) -> Any:
            return await run(**{name: value for name, value in arguments.items() if not name.startswith("_access_")})

        endpoint.__signature__ = inspect.Signature([*parameters, served, session, *access])  # type: ignore[attr-defined]
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
            dependencies=checks or None,
        )

    async def answered(service: Any, session: AsyncSession, record: Any) -> Any:
        if view is not None:
            return await call(service, session, view, record)
        return item.model_validate(record, from_attributes=True)

    async def create_item(service: Any, session: AsyncSession, payload: BaseModel, response: Response) -> Any:
        created = await answered(service, session, await call(service, session, "create", payload))
        if location:
            response.headers["Location"] = f"{router.prefix}/{created.id}"
        return created

    async def list_items(service: Any, session: AsyncSession, cursor: str | None, limit: int) -> Any:
        return await call(service, session, "page", cursor, limit)

    async def list_every(service: Any, session: AsyncSession) -> Any:
        records = await call(service, session, "all")
        return Page[item](items=[item.model_validate(record, from_attributes=True) for record in records])  # type: ignore[valid-type]

    async def get_item(service: Any, session: AsyncSession, **path: uuid.UUID) -> Any:
        return await answered(service, session, await call(service, session, "get", path[key]))

    async def replace_item(service: Any, session: AsyncSession, payload: BaseModel, **path: uuid.UUID) -> Any:
        return await answered(service, session, await call(service, session, "replace", path[key], payload))

    async def update_item(service: Any, session: AsyncSession, payload: BaseModel, **path: uuid.UUID) -> Any:
        return await answered(service, session, await call(service, session, "update", path[key], payload))

    async def delete_item(service: Any, session: AsyncSession, **path: uuid.UUID) -> None:
        await call(service, session, "delete", path[key])

    limit = _parameter("limit", LimitQuery, 50)
    page_after = _parameter("cursor", Annotated[str | None, cursor_query(*cursor)], None)
    paging = [limit, page_after] if limit_first else [page_after, limit]
    creating = [_parameter("payload", body), _parameter("response", Response)]
    add(create, "POST", "", create_item, creating, item, status.HTTP_201_CREATED)
    add(list_, "GET", "", list_items, paging, Page[item])  # type: ignore[valid-type]
    add(list_all, "GET", "", list_every, [], Page[item])  # type: ignore[valid-type]
    add(get, "GET", f"/{{{key}}}", get_item, [path_key], item)
    add(replace, "PUT", f"/{{{key}}}", replace_item, [path_key, _parameter("payload", body)], item)
    if update is not None and changes is None:
        raise TypeError("an update route needs the changes body")
    add(update, "PATCH", f"/{{{key}}}", update_item, [path_key, _parameter("payload", changes or body)], item)
    add(delete, "DELETE", f"/{{{key}}}", delete_item, [path_key], None, status.HTTP_204_NO_CONTENT)

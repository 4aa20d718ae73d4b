"""Public survey routes: /public/csat/{token}, reached through the gateway with no sign-in.

``GET`` is the survey mail's one click: it records the link's rating (once per link) and
shows the page confirming it, with the form to add a comment and, for Bad, a reason. ``POST``
(that form, ``application/x-www-form-urlencoded``) keeps the answer, the rating changed if the
customer chose the other one. A link this service did not make is a 404 page, a survey closed
(the case closed, or 28 days passed) a 410 page, an answer that breaks a rule the form again
with a 422.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from omnicase.case_core.csat.page import message_page, survey_page
from omnicase.case_core.csat.service import AnswerInvalid
from omnicase.case_core.errors import SurveyClosed, SurveyLinkUnknown
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit import locales
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ServiceError
from omnicase.kit.sealing import TOKEN_PATTERN

router = APIRouter(prefix="/public/csat", tags=["csat"])

_HTML: dict[str, Any] = {"content": {"text/html": {}}}
_PAGES: dict[int | str, dict[str, Any]] = {200: _HTML, 404: _HTML, 410: _HTML}
# A form of three short fields; anything bigger is not our page's.
MAX_FORM_BYTES = 64 * 1024
# The link's token as the survey mail writes it. Documented, not enforced: a link mangled on
# its way (a mail client's line break, a dot) still gets the survey's 404 page, not a 422.
SurveyToken = Annotated[
    str,
    Path(description="The survey link's sealed token.", json_schema_extra={"pattern": TOKEN_PATTERN}),
]


def _refused(error: ServiceError, request: Request) -> HTMLResponse:
    """The page of a link that opens no survey, in the language the visitor's browser prefers."""
    locale = locales.preferred(request.headers.get("accept-language", ""), locales.shipped(), locales.FALLBACK)
    page = message_page(closed=isinstance(error, SurveyClosed), locale=locale)
    return HTMLResponse(page, status_code=error.status)


@router.get(
    "/{token}",
    operation_id="show_csat_survey",
    summary="The survey page a link in a survey mail opens: records the link's rating, offers a comment and reason",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_csat_survey(
    token: SurveyToken, request: Request, session: SessionDep, services: ServicesDep
) -> HTMLResponse:
    try:
        view = await services.csat.open_survey(session, token, click=True)
    except (SurveyLinkUnknown, SurveyClosed) as error:
        return _refused(error, request)
    brand = await services.brands.look(session, view.case.brand, view.case.language)
    return HTMLResponse(survey_page(view, request.url.path, saved=True, brand=brand))


@router.post(
    "/{token}",
    operation_id="submit_csat_answer",
    summary="Keep the survey page's answer: the rating (changed if asked), a Bad reason, a comment",
    response_class=HTMLResponse,
    responses={**_PAGES, 422: _HTML},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["rating"],
                        "properties": {
                            "rating": {"type": "string", "enum": ["good", "bad"]},
                            "reason": {"type": "string", "maxLength": 100},
                            "comment": {"type": "string", "maxLength": 2000},
                        },
                    }
                }
            },
        }
    },
)
async def submit_csat_answer(
    token: SurveyToken, request: Request, session: SessionDep, services: ServicesDep
) -> HTMLResponse:
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)

    def field(name: str) -> str:
        return form.get(name, [""])[0]

    rating, reason, comment = field("rating"), field("reason"), field("comment")
    try:
        view = await services.csat.answer(session, token, rating, reason, comment)
    except (SurveyLinkUnknown, SurveyClosed) as error:
        return _refused(error, request)
    except AnswerInvalid as error:
        brand = await services.brands.look(session, error.view.case.brand, error.view.case.language)
        page = survey_page(
            error.view,
            request.url.path,
            saved=False,
            errors=error.errors or [],
            rating=rating,
            reason=reason,
            comment=comment,
            brand=brand,
        )
        return HTMLResponse(page, status_code=422)
    brand = await services.brands.look(session, view.case.brand, view.case.language)
    return HTMLResponse(survey_page(view, request.url.path, saved=True, brand=brand))

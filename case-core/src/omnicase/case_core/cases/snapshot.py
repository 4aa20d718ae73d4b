"""A case row as the API and other services see it."""

from __future__ import annotations

from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.cases.schemas import Case
from omnicase.kit.events import CaseSnapshot


def to_case(row: CaseRow) -> Case:
    return Case.model_validate(row, from_attributes=True)


def to_snapshot(row: CaseRow) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=row.id,
        number=row.number,
        subject=row.subject,
        status=row.status,
        priority=row.priority,
        channel=row.channel,
        type=row.type,
        requester_id=row.requester_id,
        organization_id=row.organization_id,
        assignee_id=row.assignee_id,
        group_id=row.group_id,
        brand=row.brand,
        brand_id=row.brand_id,
        tags=list(row.tags),
        custom_fields=dict(row.custom_fields),
        language=row.language,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )

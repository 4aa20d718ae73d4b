"""routing's domain errors (rendered as problem+json by the kit)."""

from omnicase.kit.errors import Conflict, NotFound


class SkillNotFound(NotFound):
    slug, title = "skill-not-found", "Skill not found"


class GroupNotFound(NotFound):
    slug, title = "group-not-found", "Group not found"


class AgentNotFound(NotFound):
    slug, title = "agent-not-found", "Agent not found"


class RuleNotFound(NotFound):
    slug, title = "rule-not-found", "Rule not found"


class OfferNotFound(NotFound):
    slug, title = "offer-not-found", "Offer not found"


class CaseNotKnown(NotFound):
    slug, title = "case-not-known", "Case not known to routing"


class NameTaken(Conflict):
    slug, title = "name-taken", "Name already taken"


class OverflowConflict(Conflict):
    """A change the group's stored overflow settings do not allow (half an overflow, a loop of queues)."""

    slug, title = "overflow-conflict", "Overflow settings conflict"


class StillInUse(Conflict):
    slug, title = "still-in-use", "Still in use"


class AgentExists(Conflict):
    slug, title = "agent-exists", "Agent already exists"


class OfferNotPending(Conflict):
    slug, title = "offer-not-pending", "Offer no longer pending"

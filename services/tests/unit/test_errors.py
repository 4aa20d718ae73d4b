from omnicase.kit.errors import (
    NOT_FOUND_CODE,
    FieldError,
    NotFound,
    UnknownReference,
    ValidationFailed,
    problem_responses,
    refusal,
)


def test_a_refusal_naming_something_that_does_not_exist_is_a_404_naming_only_those_fields() -> None:
    unknown = FieldError(field="body.group_id", message="no such group", code=NOT_FOUND_CODE)
    twice = FieldError(field="body.skills.1.skill_id", message="listed twice", code="duplicate")
    error = refusal("The rule is not valid.", [twice, unknown])
    assert isinstance(error, UnknownReference)
    assert (error.status, error.slug, error.errors) == (404, "unknown-reference", [unknown])


def test_a_refusal_of_the_input_itself_is_a_422_naming_every_field() -> None:
    errors = [
        FieldError(field="body.skills.1.skill_id", message="listed twice", code="duplicate"),
        FieldError(field="body.end", message="must be after start", code="interval_order"),
    ]
    error = refusal("The schedule is not valid.", errors)
    assert type(error) is ValidationFailed
    assert (error.status, error.errors) == (422, errors)


def test_two_problems_of_one_status_are_one_declared_answer_naming_both() -> None:
    class ThingNotFound(NotFound):
        title = "Thing not found"

    declared = problem_responses(ThingNotFound, ValidationFailed, UnknownReference)
    assert declared[404]["description"] == "Thing not found or Unknown reference"
    assert declared[422]["description"] == "Validation error"
    assert problem_responses(NotFound, NotFound)[404]["description"] == "Not found"

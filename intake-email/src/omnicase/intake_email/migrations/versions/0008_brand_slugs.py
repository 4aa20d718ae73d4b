"""intake-email: a mailbox names its brand by case-core's slug (issue 22).

A mailbox's ``brand`` was always held to a slug's shape here, but a slug of that shape may still
differ from the one case-core's 0012 made of the same string (the kit's ``slug_of`` drops a
trailing ``-`` or ``_``: a mailbox's ``acme-`` opened cases of the brand ``acme``). Now the brand is
checked against case-core's brands when a mailbox is written; this revision rewrites each stored
brand ``slug_of`` would change the same way, so it names the brand case-core made of it. Nothing
else changes; a mailbox without a brand keeps none.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from omnicase.kit.brands import slug_of

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    strings = [
        row[0]
        for row in connection.execute(
            sa.text("SELECT DISTINCT brand FROM intake_email.mailboxes WHERE brand IS NOT NULL")
        )
    ]
    for string in strings:
        if slug_of(string) != string:
            connection.execute(
                sa.text("UPDATE intake_email.mailboxes SET brand = :slug WHERE brand = :string"),
                {"slug": slug_of(string), "string": string},
            )


def downgrade() -> None:
    # Which string a slug came from is not kept, so there is nothing to undo.
    pass

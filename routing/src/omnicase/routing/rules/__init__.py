"""Assignment rules: an ordered list deciding each case's queue and required skills."""

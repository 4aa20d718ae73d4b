"""Users, passwords, login sessions, access/refresh tokens and API tokens."""

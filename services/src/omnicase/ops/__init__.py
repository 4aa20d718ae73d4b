"""What operators run against the suite, not what a running service imports: schema
migrations (``omnicase migrate`` and each service's Alembic environment), topic creation
(``omnicase topics``), outbox replay after a broker lost data (``omnicase outbox replay``)
and dead letters (``omnicase dlq``)."""

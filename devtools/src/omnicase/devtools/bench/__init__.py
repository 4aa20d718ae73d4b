"""``omnicase bench``: the kit's own throughput beside the raw ceilings of the same servers.

One run starts its own PostgreSQL (durable: ``fsync`` and ``synchronous_commit`` on, so
every commit is an honest flush to disk) and its own Tansu broker (memory storage, as in
the dev stack), on free ports in a temporary directory, and measures, in this order:

1. **PostgreSQL ceiling**: single-row ``INSERT`` transactions (each its own commit) over
   ``BENCH_PG_CONNECTIONS`` asyncpg connections, no ORM, no pool.
2. **Broker ceiling**: messages the size of an event envelope produced with ``acks=all``
   (the kit producer's client settings) and read back by a group consumer that commits
   its offsets after each poll; rate from the first send to the last message consumed.
   The consumer has joined its group before the first send and reads while the
   producer sends, as the kit's consumer does.
3. **The kit**: ``BENCH_WRITERS`` writers, each committing ``BENCH_EVENTS_PER_TX`` (10)
   ``CaseUpdated`` per transaction through :meth:`Outbox.add_envelopes` (what a service's
   batch handler does with a fetched batch; 1 is what an API request does), an
   :class:`OutboxRelay` publishing, and an :class:`EventConsumer` whose batch handler
   writes one row per event, set-based, in its inbox transaction. Rate from the first write to the last
   handler transaction committed; latency from the envelope's ``time`` (stamped as the
   outbox row is written) to the commit of the handler's transaction. Writers are not
   throttled, so those latencies include queueing; a short second run paced at half the
   measured rate gives the latency below saturation. At the end every event must have
   been applied exactly once (the handler's table is counted), or the run fails.

4. **The services' own benches** (:mod:`omnicase.devtools.bench.services`): each installed
   service that registers one (routing's decisions at 1,000 agents, sla-engine's timer
   lag among a million timers…) runs on a database of its own on the same PostgreSQL.
   ``BENCH_SERVICES=routing,sla-engine`` picks some; their sizes are their own settings.
5. **The whole suite** (:mod:`omnicase.devtools.bench.suite.run`): ``omnicase up`` on a fresh
   database of the same PostgreSQL and on the same broker, configured through the
   gateway, then at least ``BENCH_SUITE_EMAILS`` mails (10,000) over
   ``BENCH_SUITE_SMTP_SESSIONS`` SMTP sessions and ``BENCH_SUITE_FORMS`` form posts
   (10,000) over ``BENCH_SUITE_HTTP_CLIENTS`` clients, for at least ``BENCH_SUITE_SECONDS``
   (60), while an agent console sends ``BENCH_SUITE_API_RATE`` requests/s (open loop)
   through the gateway. Rows per channel: accepted per second, and p50/p95/p99 from
   acceptance to case created, assigned and SLA milestones set; per console operation:
   p50/p95/p99 and errors; then a round per channel paced at half what the pipeline kept
   up with, for the same stages below saturation. Every accepted message must become
   exactly one case, assigned and timed, or the run fails. ``BENCH_SUITE=0`` skips it.

Every rate is also shown as a share of the INSERT ceiling of the same run (reads excepted).

Each measurement follows a short warm-up through the same path (connections open, group
joined, shard locks taken, statements prepared), reported in the output; nothing else is
tuned. Every client runs in this one Python process on one event loop (uvloop when
installed, as under uvicorn), so on a small machine the kit figure also pays for writers,
relay and consumer sharing a core, which a deployment spreads over processes. Each row
shows the CPU this process used (% of one core) and the host's busy CPU (% of all cores)
while it was measured, so a reader can tell a client-bound figure from a server-bound one
and see when other work on the host skewed a run.

The table is printed and written as JSON to ``<output>/kit-<UTC timestamp>.json``.
Sizes: ``--events`` / ``BENCH_EVENTS`` (each measurement), ``BENCH_PG_CONNECTIONS``,
``BENCH_WRITERS``, ``BENCH_PARTITIONS``, ``BENCH_CASES`` (distinct keys),
``BENCH_WARMUP`` and ``BENCH_STALL_TIMEOUT`` (seconds without progress before giving up).
Speed is measured here, never by timed assertions in tests.
"""

"""Results in InfluxDB: settings, schema, line protocol, points, writers, spool, sink.

``run_log.RunLog`` is the entry point (one call per test); ``points`` and
``verification_points`` build points, ``lineproto`` encodes them, ``sink`` spools
and delivers them through ``writers``, ``push`` replays a spool, ``query`` reads
back, ``servers`` starts local ``influxd`` / ``victoria-metrics`` for tests.
"""

"""What each serving process does before it serves: warm up, freeze the long-lived heap, and
(with several workers) keep to its share of clients. Used by `spinepath serve` and `demo`."""

from __future__ import annotations

import os

from fastapi import FastAPI


def ready_to_serve(app: FastAPI) -> FastAPI:
    """Warm the per-process caches, then move everything built so far out of the garbage
    collector's reach.

    The knowledge base, compiled rule plans, routes and schemas are a large, long-lived object
    graph. Left in the collected heap, every full (generation 2) collection walks all of it —
    about 110 ms every few seconds under load, stalling every request in flight (at 4 concurrent
    clients it was the whole p99: 742 ms before, 67 ms after). Frozen, a full collection takes
    about 2-5 ms. Then young collections are made rarer (YOUNG_GC_THRESHOLD). Done only for a
    serving process (not in create_app), because frozen cycles are never collected.
    """
    import datetime as dt
    import gc

    from spinepath.rules.engine import assess

    svc = app.state.services
    app.openapi()
    for policy in svc.knowledge.policies:
        assess({"age": 50, "pain": {"leg": {"nrs": 6}}}, svc.knowledge, policy, dt.date.today())
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)
    return app


#: Net new container objects before a young collection (CPython's default is 700). Request
#: objects are freed by reference counting; the collector is only needed for cycles. At 700 a
#: young collection ran in most requests, since an assessment builds thousands of containers, and
#: promoted the results of the 16 requests in flight into the older generations, so a full
#: collection ran about every 0.3 s: 2 ms each, and 25-50 ms once long-lived caches had grown.
#: Measured per worker over 10 s at 32 clients (5,700 requests): about 4,000 young, 370 middle
#: and 35 full collections before (1.4 s in all with grown caches; p99 75 ms); one young
#: collection of about 10 ms after (p99 37 ms, the grown caches still in place). Cyclic garbage
#: is still collected, once 20,000 objects' worth has built up.
YOUNG_GC_THRESHOLD = 20_000


WORKERS_ENV = "SPINEPATH_SERVE_WORKERS"


def app_factory() -> FastAPI:
    """For uvicorn workers (each process builds its app from the environment)."""
    from spinepath.api.app import create_app
    from spinepath.api.balance import Balance
    from spinepath.settings import Settings

    app = create_app(Settings())
    app.add_middleware(Balance, workers=int(os.environ.get(WORKERS_ENV, "1")))
    return ready_to_serve(app)

"""gunicorn settings for `make serve` (production serving; see the README).

The app keeps no per-user state in the process (the browser holds it, in the URL and
in dcc.Store), so any worker can answer any request and instances can sit behind a
load balancer; background sweeps share a disk cache, or Redis with REDIS_URL.
"""

import os

workers = int(os.environ.get("WORKERS", "2"))
# gevent: a worker serves many connections at once, each a greenlet, so slow or idle
# clients (a bad link, a slowloris) cost a few kB each instead of a whole worker, as
# they did with sync workers (benchmarks/slow_clients.py). The app's callbacks are
# short and CPU-bound, so each worker still computes one at a time; sweeps run in
# their own processes (callbacks/jobs.py).
worker_class = os.environ.get("WORKER_CLASS", "gevent")
worker_connections = 500  # per worker; beyond that, connections wait in the listen queue
preload_app = True  # import (and warm the numba kernels) once, before forking workers
timeout = 60  # a bounded request finishes in well under a second; a stuck one is killed
graceful_timeout = 10
keepalive = 5
# recycle workers now and then: a worker's memory settles within a few hundred requests
# (caches filled: +5 MB over 1,500, benchmarks/load.py), and recycling bounds whatever
# it could still gain; rarely enough not to show in the latency (a respawn warms up)
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190
# no control socket: its default path is one per user, shared by every instance on
# the machine, and nothing here uses gunicornc
control_socket_disable = True
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")



def on_starting(server):
    """The master adopts the orphans of its workers: background jobs are started detached
    (callbacks/jobs.py) so that a recycled worker exits at once; when a job ends, the
    master (which reaps every child) reaps it, so no zombie is left."""
    from callbacks.jobs import adopt_job_processes

    if not adopt_job_processes(reap=False):
        server.log.warning("could not make the master a child subreaper (jobs are reaped "
                           "by init)")

"""gunicorn settings for `make serve` (production serving; see the README).

The app keeps no per-user state in the process (the browser holds it, in the URL and
in dcc.Store), so any worker can answer any request and instances can sit behind a
load balancer; background sweeps share a disk cache, or Redis with REDIS_URL.
"""

import os

workers = int(os.environ.get("WORKERS", "2"))
# gthread: each worker reads requests on a pool of threads, so slow or idle clients (a
# bad link, a slowloris) hold a thread each, not a whole worker as with sync workers
# (benchmarks/slow_clients.py); with 32 threads a worker, 64 such connections at once
# before a request waits. Not gevent: a sweep job forked from a gevent worker kept the
# worker from seeing its SIGTERM until the job ended (a recycled worker stayed up for
# the whole sweep, tests/test_serving.py). The callbacks are short and CPU-bound, so a
# worker's threads compute one at a time (the GIL); sweeps run in their own processes
# (callbacks/jobs.py).
worker_class = os.environ.get("WORKER_CLASS", "gthread")
threads = int(os.environ.get("THREADS", "32"))
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

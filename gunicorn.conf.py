"""gunicorn settings for `make serve` (production serving; see the README).

The app keeps no per-user state in the process (the browser holds it, in the URL and
in dcc.Store), so any worker can answer any request and instances can sit behind a
load balancer; background sweeps share a disk cache, or Redis with REDIS_URL.
"""

import os

workers = int(os.environ.get("WORKERS", "2"))
worker_class = "sync"
preload_app = True  # import (and warm the numba kernels) once, before forking workers
timeout = 60  # a bounded request finishes in well under a second; a stuck one is killed
graceful_timeout = 10
keepalive = 5
max_requests = 5000  # recycle workers now and then
max_requests_jitter = 500
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

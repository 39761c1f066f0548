"""gunicorn settings (docs/operations.md, "Processes"): ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Every value can be overridden on the command line or through ``GUNICORN_CMD_ARGS``. ``PORT`` (default 8000),
``WEB_CONCURRENCY`` (worker processes, default 2 per core) and ``GUNICORN_TIMEOUT`` (seconds, default 30) come
from the environment. Prometheus counts of every worker process are shared through ``PROMETHEUS_MULTIPROC_DIR``:
one directory per gunicorn master, emptied when it starts (``/metrics`` sums them).
"""

import multiprocessing
import os
import shutil
import tempfile

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - behind the proxy
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
max_requests = 2000  # a worker is replaced now and then (memory), with jitter so they do not all restart together
max_requests_jitter = 200
accesslog = None  # the application logs one JSON line per request (request_finished), with its latency
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
control_socket_disable = True  # gunicorn >= 24: one fixed socket path per user would clash between two nodes

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="backoffice-prometheus-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)  # counts of an earlier run would be added to this one's
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

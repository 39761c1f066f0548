"""Real concurrency for the PostgreSQL tests: run calls in threads that start together."""

import threading

from django.db import close_old_connections, connections


def run_concurrently(*calls, timeout: float = 60):
    """Run each call in its own thread, all released at once; returns their results (or raised exceptions),
    in the calls' order. A call that does not finish within ``timeout`` seconds fails the test (a deadlock or a
    lock nobody releases), rather than leaving a ``None`` among the results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {len(threads)} concurrent calls did not finish within {timeout:.0f}s"
    close_old_connections()
    return results


def outcomes(results: list, *expected: type[Exception]) -> tuple[list, list, list]:
    """``(values, expected errors, anything else raised)`` of :func:`run_concurrently`'s results."""
    values = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, expected)]
    crashes = [r for r in results if isinstance(r, Exception) and not isinstance(r, expected)]
    return values, refused, crashes

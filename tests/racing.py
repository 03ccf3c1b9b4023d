"""Calls made at once, as concurrent requests are: one thread each, released together
by a barrier; each thread closes its database connection when done."""

import threading

from django.db import connection


def at_once(calls, timeout=60) -> list:
    """The results of ``calls`` (callables), in their order; a call that raised gives its
    exception, so that a test can assert on every outcome."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # the test asserts on it
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results

"""Tests that need Redis skip, with the reason printed, when it does not answer."""

import pytest


def require_redis(url: str, what_is_not_tested: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        reason = f"Redis is not reachable at {url} ({exc}); {what_is_not_tested}"
        print(reason)
        pytest.skip(reason)

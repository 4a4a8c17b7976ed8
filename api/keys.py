"""API keys (kept only as SHA-256 digests, compared in constant time) and per-key rate limits."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time


def digest(key: str) -> bytes:
    """The SHA-256 digest a key is kept and compared as."""
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """The accepted keys, as digests: the plain keys are not kept in memory."""

    def __init__(self, keys: list[str]) -> None:
        self._digests = [digest(key) for key in keys]

    @property
    def enabled(self) -> bool:
        """Whether any key is configured (requests must then present one)."""
        return bool(self._digests)

    def identify(self, presented: str) -> str | None:
        """A short id of the key `presented` matches (for rate limits and logs), or None.

        Every stored digest is compared, each in constant time, so the time taken does not
        say which key (or how much of one) matched.
        """
        candidate = digest(presented)
        found = None
        for stored in self._digests:
            if hmac.compare_digest(candidate, stored):
                found = stored.hex()[:12]
        return found


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, in bursts up to that many."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self._lock = threading.Lock()

    def check(self, client: str) -> float:
        """Take one request from `client`'s bucket: 0.0 if allowed, else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # many addresses: forget the full buckets
                self._forget_full(now, rate)
            return 0.0

    def _forget_full(self, now: float, rate: float) -> None:
        full = [
            client
            for client, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * rate >= self.per_minute
        ]
        for client in full:
            del self._buckets[client]

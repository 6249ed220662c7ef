"""The author's password: a PBKDF2-SHA256 hash stored in the app's secrets, never the password.

Format: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``. ``kb password`` makes one.

Guessing is limited per client: :class:`Throttle` counts wrong tries per browser
session and per client address, so that many tabs or sessions from one place share one
budget, while a stranger elsewhere who exhausts theirs locks out no one but themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

ITERATIONS = 310_000
MAX_ITERATIONS = 10_000_000  # about half a minute per check on a small server: beyond, a typo


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Return the storable hash of a password."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def hash_problem(stored: object) -> str | None:
    """Return what is wrong with a stored hash, in one line, or None when it is well formed."""
    if not isinstance(stored, str):
        return "it must be a text value in quotes"
    parts = stored.split("$")
    if len(parts) != 4:
        return (
            f"it must have 4 parts separated by '$' (it has {len(parts)}); "
            "paste the whole line `kb password` prints"
        )
    scheme, iterations, salt_hex, digest_hex = parts
    if scheme != "pbkdf2_sha256":
        return "it must start with 'pbkdf2_sha256$'"
    if not re.fullmatch(r"[0-9]{1,9}", iterations) or not 1 <= int(iterations) <= MAX_ITERATIONS:
        return f"its iteration count must be a whole number from 1 to {MAX_ITERATIONS:,}"
    if not re.fullmatch(r"(?:[0-9a-f]{2}){8,64}", salt_hex):
        return "its salt must be lower-case hexadecimal digits (no spaces)"
    if not re.fullmatch(r"[0-9a-f]{64}", digest_hex):
        return "its hash must be 64 lower-case hexadecimal digits (no spaces, no capitals)"
    return None


def verify_password(password: str, stored: str) -> bool:
    """Tell whether ``password`` matches a stored hash (constant-time comparison).

    A malformed hash never matches; :func:`hash_problem` says what is wrong with it.
    """
    if hash_problem(stored) is not None:
        return False
    _, iterations, salt_hex, digest_hex = stored.split("$")
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode("utf-8"), bytes.fromhex(salt_hex), int(iterations)
    )
    return hmac.compare_digest(digest.hex(), digest_hex)


TOKEN_PREFIX = "kb1"


def make_token(key: bytes, now: float, ttl: float) -> str:
    """Return a sign-in token valid until ``now + ttl``: its expiry and an HMAC of it."""
    expires = int(now + ttl)
    mac = hmac.new(key, f"{TOKEN_PREFIX}.{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{TOKEN_PREFIX}.{expires}.{mac}"


def check_token(key: bytes, token: object, now: float) -> bool:
    """Tell whether a token was made with ``key`` and has not expired (constant-time check)."""
    if not isinstance(token, str) or len(token) > 200:
        return False
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1].isdigit():
        return False
    want = hmac.new(key, f"{TOKEN_PREFIX}.{parts[1]}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts[2]) and int(parts[1]) > now


class Throttle:
    """Wrong-password tries per key (a session, a client address), with a lock-out rule.

    A key may make ``max_tries`` tries within ``window`` seconds; the try after that is
    refused, and the key stays refused until ``lock`` seconds after its last counted try.
    A try is counted when it is made, before the password is checked, so tries made at
    the same moment from parallel sessions cannot pass the limit together. A right
    password forgets the tries of its keys.
    """

    def __init__(
        self,
        max_tries: int = 5,
        window: float = 60.0,
        lock: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_tries, self.window, self.lock = max_tries, window, lock
        self.clock = clock
        self._tries: dict[str, list[float]] = {}
        self._until: dict[str, float] = {}
        self._mutex = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Return how many seconds the keys must still wait before a try (0 when none)."""
        now = self.clock()
        with self._mutex:
            return max([self._until.get(k, 0.0) - now for k in keys] + [0.0])

    def attempt(self, *keys: str) -> tuple[bool, int]:
        """Count a try for every key; return whether it may be checked, and the key's tries."""
        now = self.clock()
        with self._mutex:
            if any(self._until.get(k, 0.0) > now for k in keys):
                return False, self.max_tries
            most = 0
            for k in keys:
                tries = [t for t in self._tries.get(k, []) if now - t < self.window]
                tries.append(now)
                self._tries[k] = tries
                most = max(most, len(tries))
                if len(tries) > self.max_tries:
                    self._until[k] = now + self.lock
            if most > self.max_tries:
                return False, most
            for k in keys:
                if len(self._tries[k]) == self.max_tries:
                    self._until[k] = now + self.lock  # the last allowed try locks after it
            return True, most

    def success(self, *keys: str) -> None:
        """Forget the tries of the keys (the right password was given)."""
        with self._mutex:
            for k in keys:
                self._tries.pop(k, None)
                self._until.pop(k, None)

    def clear(self) -> None:
        """Forget every try."""
        with self._mutex:
            self._tries.clear()
            self._until.clear()

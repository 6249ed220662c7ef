"""The author's password: a PBKDF2-SHA256 hash stored in the app's secrets, never the password.

Format: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``. ``kb password`` makes one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 310_000


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Return the storable hash of a password."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Tell whether ``password`` matches a stored hash (constant-time comparison)."""
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"),
                                     bytes.fromhex(salt_hex), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)

"""The password check and the lock-out rule, without the app."""

from __future__ import annotations

import threading

import pytest

from kb.auth import MAX_ITERATIONS, Throttle, hash_password, hash_problem, verify_password


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_tries_a_minute_then_a_minute_of_refusal():
    clock = Clock()
    t = Throttle(5, window=60, lock=60, clock=clock)
    for n in range(1, 6):
        assert t.attempt("session:a", "address:x") == (True, n)
        clock.now += 1
    assert t.wait("session:a", "address:x") > 0
    assert t.attempt("session:a", "address:x")[0] is False
    clock.now += 59  # 60 s after the fifth try (made at +4 s)
    assert t.wait("session:a") == 0 and t.attempt("session:a", "address:x")[0] is True


def test_tries_spread_over_more_than_the_window_never_lock():
    clock = Clock()
    t = Throttle(5, window=60, lock=60, clock=clock)
    for _ in range(20):
        assert t.attempt("address:x")[0] is True
        clock.now += 15  # four tries a minute
    assert t.wait("address:x") == 0


def test_parallel_sessions_from_one_address_share_its_five_tries():
    t = Throttle(5, window=60, lock=60)
    allowed = []
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        start.wait()
        allowed.append(t.attempt(f"session:{n}", "address:203.0.113.9")[0])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert allowed.count(True) == 5 and len(allowed) == 12


def test_a_stranger_who_is_locked_out_does_not_lock_out_the_author():
    t = Throttle(5, window=60, lock=60)
    for _ in range(8):
        t.attempt("session:stranger", "address:198.51.100.7")
    assert t.wait("session:stranger", "address:198.51.100.7") > 0
    assert t.wait("session:author", "address:192.0.2.1") == 0
    assert t.attempt("session:author", "address:192.0.2.1") == (True, 1)


def test_the_right_password_forgets_the_tries():
    t = Throttle(5, window=60, lock=60)
    for _ in range(4):
        t.attempt("session:a")
    t.success("session:a")
    assert t.attempt("session:a") == (True, 1)


GOOD = hash_password("open sesame", iterations=1000)


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (GOOD.replace("$1000$", f"${10**30}$"), "iteration count"),
        (GOOD.replace("$1000$", f"${MAX_ITERATIONS + 1}$"), "iteration count"),
        (GOOD + " ", "64 lower-case"),
        (" " + GOOD, "must start with"),
        (GOOD[: GOOD.rindex("$")] + "$" + GOOD[GOOD.rindex("$") + 1 :].upper(), "no capitals"),
        (GOOD.rsplit("$", 1)[0], "4 parts"),
        ("sha1$1000$00$00", "must start with"),
        (GOOD.replace("$1000$", "$-5$"), "iteration count"),
        (GOOD.split("$")[0] + "$1000$zz$" + GOOD.split("$")[3], "salt"),
    ],
)
def test_a_malformed_hash_is_named_in_one_line_and_never_raises(stored, words):
    problem = hash_problem(stored)
    assert problem and words in problem and "\n" not in problem
    assert verify_password("open sesame", stored) is False


def test_a_good_hash_has_no_problem_and_matches():
    assert hash_problem(GOOD) is None
    assert verify_password("open sesame", GOOD) and not verify_password("open", GOOD)


def test_sign_in_tokens_expire_and_are_bound_to_their_key():
    from kb.auth import check_token, make_token

    key, other = b"k" * 32, b"o" * 32
    token = make_token(key, now=1000.0, ttl=60)
    assert check_token(key, token, now=1059.0)
    assert not check_token(key, token, now=1061.0)
    assert not check_token(other, token, now=1001.0)
    forged = token.rsplit(".", 1)[0].replace("1060", "9999999999") + "." + token.rsplit(".")[-1]
    assert not check_token(key, forged, now=1001.0)
    for junk in (None, "", "kb1", "kb1.x.y", "kb1.1060", "a" * 500):
        assert not check_token(key, junk, now=1001.0)

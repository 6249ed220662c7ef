"""The one scrubber, on a generated table of the forms private data takes in readers' text."""

from __future__ import annotations

import itertools
import re

import pytest

from kb.corpus.read import load_corpus
from kb.scrub import EMAIL_MARK, IP_MARK, LINK_MARK, PHONE_MARK, scrub

from .conftest import EMBEDDED_CORPUS, FIXTURE_CORPUS

LOCALS = [("jane", "doe"), ("sam", "k"), ("r", "mendes42")]
DOMAINS = [("gmail", "com"), ("mailbox", "co", "uk"), ("post", "org")]
ATS = ["@", " @ ", "＠", "%40", "[at]", " [at] ", "(at)", " (at) ", " at ", "{at}"]
DOTS = [".", " dot ", "[dot]", " [dot] ", "(dot)"]


def _emails():
    for (first, last), domain, at, dot in itertools.product(LOCALS, DOMAINS, ATS, DOTS):
        if at.strip() in ("@", "＠", "%40") and dot != ".":
            continue  # an address with a real @ is written with real dots
        yield f"{first}{dot}{last}{at}{dot.join(domain)}"


IPS = [
    "203.0.113.5",
    "10.0.0.1",
    "192.168.10.7",
    "255.255.255.255",
    "2001:db8::1",
    "2001:db8:0:0:0:0:2:1",
    "fe80::1ff:fe23:4567:890a",
    "::ffff:203.0.113.5",
    "::ffff:10.1.2.3",
]
PHONES = [
    "+44 20 7946 0958",
    "+1 (555) 123-4567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "555 123 4567",
    "5551234567",
    "07700 900123",
    "07700900123",
    "+33 1 23 45 67 89",
    "0049 30 1234567",
    "555-1234",
    "+61 2 9876 5432",
    "+1-555-123-4567",
    "020 7946 0958",
]
PLACES = [
    "{}",
    "write to {} please",
    "it was {}.",
    "({})",
    "my number/address: {}, thanks",
    "{}\nthat is all",
]
# what readers write with numbers in it, which must stay as written
ORDINARY = [
    "We were together 12 years and married for 8.",
    "I am 34 and he is 36.",
    "It happened on 2024-01-15 at 10:30.",
    "Since 15.01.2024 he has not called.",
    "Between 1998-2004 we lived abroad.",
    "in 2010 2011 and 2012 we tried",
    "It cost $1,200,000.",
    "They paid 1.200.000 euros.",
    "She is 5 ft 6 and I am 6 ft 1.",
    "Rooms 12, 14 and 16.",
    "We met at work. It was 2019.",
    "I looked at him and said no.",
    "at 3 pm, 4 pm or 5",
    "The score was 3-1, then 4-2.",
    "Call me at home tonight.",
    "Page 2 of 10.",
    "We have 2 kids aged 4 and 7.",
    "12/05/2019 was the day.",
    "Version 1.2.3 of the app.",
    "On 3 June 2015 he left.",
    "after 20 years, 3 months and 4 days",
    "I earn 45000 a year.",
    "My score went from 600 to 720.",
    "At 2:30am he texted me.",
    "1. First 2. Second 3. Third",
]


def _cases(kind: str, values, mark: str):
    for value, place in itertools.product(values, PLACES):
        yield pytest.param(place.format(value), value, mark, id=f"{kind}-{value}-{place[:6]}")


FORMS = (
    list(_cases("email", list(_emails()), EMAIL_MARK))
    + list(_cases("ip", IPS, IP_MARK))
    + list(_cases("phone", PHONES, PHONE_MARK))
)


def test_the_table_is_large():
    assert len(FORMS) >= 1000


@pytest.mark.parametrize(("text", "value", "mark"), FORMS)
def test_every_form_is_replaced_by_one_mark(text, value, mark):
    out = scrub(text)
    assert out.count(mark) == 1, out
    assert sum(out.count(m) for m in (EMAIL_MARK, IP_MARK, PHONE_MARK, LINK_MARK)) == 1, out
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 4:
        assert digits not in re.sub(r"\D", "", out)
    for word in re.findall(r"[a-z]{3,}", value):
        if word not in ("dot",):
            assert word not in out.replace(mark, ""), out


@pytest.mark.parametrize("text", ORDINARY)
def test_numbers_readers_write_are_kept(text):
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("see https://x.example/?u=jane@gmail.com ok", "see [link removed] ok"),
        ("look //evil.example/img.png here", "look [link removed] here"),
        ("www.other.example/page.", "[link removed]."),
        (
            "https://advice.example/post/ and https://spam.example/",
            "https://advice.example/post/ and [link removed]",
        ),
    ],
)
def test_links_and_addresses_inside_them_are_one_mark(text, want):
    assert scrub(text, "https://advice.example") == want


def test_no_false_positives_on_the_embedded_and_fixture_corpora():
    """No article section or comment of either corpus loses anything but a link to the scrubber.

    They hold 500 numbers as readers write them (ages, years, durations, dates, amounts).
    """
    changed, texts = [], 0
    for root in (EMBEDDED_CORPUS, FIXTURE_CORPUS):
        corpus = load_corpus(root)
        items = [(c.id, c.body) for c in corpus.comments.values() if not c.redacted]
        items += [(s.id, s.body) for a in corpus.articles.values() for s in a.sections]
        texts += len(items)
        marks = (EMAIL_MARK, IP_MARK, PHONE_MARK)
        changed += [(i, scrub(t)) for i, t in items if any(m in scrub(t) for m in marks)]
    assert texts > 650
    assert changed == [], changed[:3]

"""The one scrubber of private data: e-mail addresses, IP addresses, phone numbers, links.

Every importer (through :mod:`kb.importers.merge`, for bodies and names) and the search
log pass text through :func:`scrub`. What it recognises:

- e-mail addresses, also written to dodge harvesters: ``jane dot doe at gmail dot com``,
  ``jane[at]mail[dot]org``, ``jane (at) mail.org``, full-width ``＠``, ``%40``;
- links to other sites (``http://``, ``https://``, ``www.``, ``//host/...``), an
  address inside a link included, as one mark;
- IPv4 addresses (also at the end of a sentence), IPv6 addresses, IPv4-mapped IPv6
  (``::ffff:203.0.113.5``) as one mark;
- phone numbers: 7 to 15 digits in groups (``+44 20 7946 0958``, ``(555) 123-4567``,
  ``555.123.4567``, ``07700 900123``), never dates (``2024-01-15``, ``15.01.2024``),
  year ranges (``1998-2004``), amounts with thousands separators, or a bare count.
"""

from __future__ import annotations

import re

EMAIL_MARK = "[e-mail removed]"
IP_MARK = "[IP removed]"
LINK_MARK = "[link removed]"
PHONE_MARK = "[phone removed]"
MARKS = (EMAIL_MARK, IP_MARK, LINK_MARK, PHONE_MARK)

_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|me|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|"
    "se|no|dk|fi|pl|pt|br|mx|in|jp|cn|ru|za|email|online|site|xyz|app|dev"
)
_WORD = r"[\w+-]+"
_DOT = r"(?:\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|<\s*dot\s*>)\s*|\s+dot\s+|[.．。])"
_AT = (
    r"(?:\s*(?:[@＠﹫]|%40|\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>)\s*"
    r"|\s+at\s+)"
)
# a plain address; then the spelled-out forms, which must end in a known top-level domain
_EMAIL_RE = re.compile(r"[\w.+-]+(?:@|＠|﹫|%40)[\w-]+(?:[.．][\w-]+)+", re.UNICODE)
_EMAIL_SPELLED_RE = re.compile(
    rf"(?<![\w.+-]){_WORD}(?:{_DOT}{_WORD})*{_AT}{_WORD}(?:{_DOT}{_WORD})*{_DOT}(?:{_TLDS})\b",
    re.UNICODE | re.IGNORECASE,
)
_URL_RE = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.|(?<![\w:/])//(?=[\w-]+\.[\w-]))"
    r"[^\s<>\"'()\[\]]+",
    re.IGNORECASE,
)
_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV4_RE = re.compile(rf"(?<![\d.]){_IPV4}(?!\.?\d)")
_IPV6_RE = re.compile(
    rf"(?<![\w:])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_IPV4}|[0-9A-Fa-f]{{0,4}})"
    r"(?![\w:])(?!\.\d)"
)
_PHONE_RE = re.compile(r"(?<![\w.,/+-])(?:\+|00)?\(?\d[\d().\s-]{5,22}\d(?![\w/]|[.,-]\d)")
_DATE_RE = re.compile(
    r"\d{4}([-./ ])\d{1,2}\1\d{1,2}(?!\d)|\d{1,2}([-./ ])\d{1,2}\2(?:\d{4}|\d{2})(?!\d)"
)
_AMOUNT_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _host(url: str) -> str:
    m = re.match(r"(?:[a-z]+:)?(?://)?(?:www\.)?([^/:?#\s]+)", url.strip(), re.I)
    return m.group(1).lower() if m else ""


def _is_ipv6(candidate: str) -> bool:
    if candidate.count(":") < 2 or ":::" in candidate:
        return False
    head, _, tail = candidate.rpartition(":")
    groups = candidate.split(":")
    if "." in tail:  # IPv4-mapped: the last group is a dotted quad
        groups = head.split(":") + ["0", "0"]
    hexy = all(re.fullmatch(r"[0-9A-Fa-f]{0,4}", g) for g in groups)
    return hexy and ("::" in candidate or len(groups) == 8) and any(groups)


def _is_phone(candidate: str) -> bool:
    text = candidate.strip()
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return False
    if text.count("(") != text.count(")") or "\n" in text:
        return False
    if _DATE_RE.match(text) or _AMOUNT_RE.fullmatch(text):
        return False
    groups = re.findall(r"\d+", text)
    if all(_YEAR.fullmatch(g) for g in groups):  # "1998-2004", "in 2010 2011"
        return False
    if len(groups) == 1:  # one run of digits: only a full number with a country code or 0
        return text.startswith(("+", "00", "0")) and len(digits) >= 9 or len(digits) >= 10
    if re.search(r"\d\s{2,}\d", text):  # numbers in a table or a list, not one number
        return False
    short = [g for g in groups if len(g) < 2]
    return len(short) <= 1 or text.startswith("+")


def scrub(text: str, site_url: str = "") -> str:
    """Return text with e-mail addresses, IP addresses, phone numbers and foreign links replaced.

    Links to the site's own address (``site_url``) are kept.
    """
    if not text:
        return text
    own = _host(site_url) if site_url else ""

    def link(m: re.Match) -> str:
        url = m.group(0)
        bare = url.rstrip(".,;:!?")  # the end of the sentence is not part of the address
        return url if own and _host(url) == own else LINK_MARK + url[len(bare) :]

    text = _URL_RE.sub(link, text)  # first: an address inside a link goes with the link
    text = _EMAIL_RE.sub(EMAIL_MARK, text)
    text = _EMAIL_SPELLED_RE.sub(EMAIL_MARK, text)
    text = _IPV6_RE.sub(lambda m: IP_MARK if _is_ipv6(m.group(0)) else m.group(0), text)
    text = _IPV4_RE.sub(IP_MARK, text)
    return _PHONE_RE.sub(lambda m: _phone(m), text)


def _phone(m: re.Match) -> str:
    found = m.group(0)
    if found.startswith("(") and found.count("(") > found.count(")"):
        inner = re.match(r".+", found[1:], re.S)  # "(555-123-4567)": a bracket around
        assert inner is not None  # the match ends in a digit, so there is text after "("
        return "(" + _phone(inner)
    stripped = found.rstrip(" .-")
    if not _is_phone(stripped):
        return found
    return PHONE_MARK + found[len(stripped) :]

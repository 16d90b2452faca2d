"""Exact duplicate detection: one key per URL spelling, one hash per article text.

Feeds repost the same article under many URL spellings (``http``/``https``, ``www.``/``m.``, AMP pages,
tracking parameters, percent-encoded or raw Arabic paths) and syndicate the same text under different
URLs. ``canonical_url`` folds the first kind, ``content_fingerprint`` catches the second. Neither
fetches anything, and neither judges that two *different* texts tell the same story: near-duplicate
story clustering lives in ``news.cluster``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from news.arabic import chunk_tokens, chunks, tokenize
from news.clean import clean_title, html_to_text

# --------------------------------------------------------------------------------------------------
# Canonical URLs
# --------------------------------------------------------------------------------------------------

_HOST_PREFIXES = ("www.", "m.", "amp.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that identify a campaign, a click or a share, never the page itself.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "igsh", "ref", "ref_src", "ref_url", "cmpid", "ocid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "spm", "xtor", "smid", "smtyp", "s_cid", "guccounter", "oly_anon_id", "oly_enc_id", "vero_id",
        "__twitter_impression", "soc_src", "soc_trk",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "at_", "mc_", "ns_", "pk_", "piwik_", "hsa_", "oly_", "itm_", "int_")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _UNRESERVED | frozenset("!$'()*,;:@/?")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _is_amp_param(name: str, value: str) -> bool:
    """``?amp``, ``?amp=1``, ``?outputType=amp``: the AMP rendering of the same page."""
    key, val = name.lower(), value.lower()
    return (key == "amp" and val in ("", "1", "true")) or (key in ("outputtype", "output") and val == "amp")


def _encode(text: str, safe: frozenset[str]) -> str:
    """Percent-encode ASCII characters outside ``safe``; keep non-ASCII characters as they are."""
    out: list[str] = []
    for ch in text:
        if ch in safe or ord(ch) > 0x7F:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def _decode_path(path: str) -> str:
    """Decode %-escapes that stand for letters (Arabic or unreserved ASCII); keep delimiters encoded.

    ``%2F`` stays ``%2F`` because decoding it would change where the path segments end. A run of escapes
    that is not valid UTF-8 (a legacy windows-1256 link, say) is kept as it is, in upper-case hex.
    """

    def repl(m: re.Match[str]) -> str:
        raw = bytes.fromhex(m.group(0).replace("%", ""))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0).upper()
        return "".join(ch if ch in _UNRESERVED or ord(ch) > 0x7F else f"%{ord(ch):02X}" for ch in text)

    decoded = _PERCENT_RUN.sub(repl, path)
    # Re-encode raw characters that have no business in a path (spaces, quotes, angle brackets).
    safe = _PATH_SAFE | {"%"}
    return unicodedata.normalize("NFC", _encode(decoded, safe))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: resolve ``.`` and ``..`` segments."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _fold_amp_path(path: str) -> str:
    """``/amp/x``, ``/x/amp``, ``/x/amp/``, ``/x.amp``, ``/x.amp.html`` → ``/x``, ``/x.html``."""
    segments = [s for s in path.split("/") if s.lower() != "amp"]
    path = "/".join(segments) or "/"
    return _AMP_SUFFIX.sub("", path)


def _fold_host(host: str) -> str:
    host = host.lower().rstrip(".")
    changed = True
    while changed:
        changed = False
        for prefix in _HOST_PREFIXES:
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix) :]
                changed = True
    return host


def canonical_url(url: str) -> str:
    """The dedup key of a URL: every spelling of one article's address gives the same string.

    Folds scheme (``http`` → ``https``) and host case, ``www.``/``m.``/``amp.`` host prefixes, default
    ports, user info, AMP variants (``/amp``, ``/amp/``, ``.amp``, ``.amp.html``, ``?amp``,
    ``?outputType=amp``), tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``ref``, ``at_*``, ``ns_*``,
    ``xtor``…), parameter order, the fragment, a trailing slash and ``.``/``..`` segments; percent-encoded
    UTF-8 in the path and query is decoded (NFC), so ``/%D9%85%D8%B5%D8%B1`` and ``/مصر`` agree.

    The result is a key, not an address to fetch: keep the original URL for links. Non-HTTP URLs and
    strings that do not parse are returned stripped but otherwise unchanged. Two hosts that serve the
    same article (``bbc.co.uk/arabic`` and ``bbc.com/arabic``) are *not* folded: that needs knowledge
    of the site, and content fingerprints catch it.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = _fold_host(parts.hostname)
    if port is not None and port not in _DEFAULT_PORTS.values():
        host = f"{host}:{port}"

    path = _fold_amp_path(_remove_dot_segments(_decode_path(parts.path or "/")))
    if len(path) > 1:
        path = path.rstrip("/") or "/"

    params = sorted(
        (unicodedata.normalize("NFC", k), unicodedata.normalize("NFC", v))
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(k) and not _is_amp_param(k, v)
    )
    query = "&".join(
        _encode(k, _QUERY_SAFE) + (f"={_encode(v, _QUERY_SAFE)}" if v else "") for k, v in params
    )
    return urlunsplit(("https", host, path, query, ""))


# --------------------------------------------------------------------------------------------------
# Content fingerprints
# --------------------------------------------------------------------------------------------------

FINGERPRINT_WORDS = 40
"""How many leading words of the text enter the fingerprint: enough to tell two reports apart, few
enough that a re-post with a changed closing paragraph or a cut body still matches."""


def _first_tokens(text: str, n: int) -> list[str]:
    """``tokenize(text)[:n]``, without tokenizing the rest of a long body (that was ~40% of cleaning)."""
    out: list[str] = []
    for piece in chunks(text):
        out.extend(chunk_tokens(piece))
        if len(out) >= n:
            break
    return out[:n]


def content_fingerprint(title: str, text: str, *, words: int = FINGERPRINT_WORDS) -> str:
    """Hex hash of the normalized title and the first ``words`` normalized words of ``text``.

    The title goes through ``clean_title`` (so «عاجل:» and markup do not count), the text through
    ``html_to_text`` (markup does not count either), and both through
    ``news.arabic.tokenize`` (so diacritics, hamza forms, tatweel, digits and punctuation do not
    count). The same article re-posted under another URL, with or without tashkeel or a «عاجل:» prefix,
    gets the same fingerprint; any change to the words themselves gives another. An empty title and
    text give the fingerprint of nothing, which callers should not use as a dedup key.
    """
    title_tokens = tokenize(clean_title(title))
    text_tokens = _first_tokens(html_to_text(text), words) if words > 0 else []
    payload = " ".join(title_tokens) + "\x1f" + " ".join(text_tokens)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()

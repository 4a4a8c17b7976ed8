"""Adding a web page by URL: download it safely, save it into the upload folder, index it.

The download is bounded every way a hostile or broken server could stretch it: time
(`RAG_FETCH_TIMEOUT`), size (`RAG_MAX_FILE_MB`, counted while reading), redirects (at most
`MAX_REDIRECTS`, each hop checked again) and type (HTML only). Only http(s) URLs are fetched, and
only from public addresses: a host that resolves to a loopback, private, link-local or reserved
address is refused unless `RAG_FETCH_ALLOW_PRIVATE` is set (a chat open to others must not be a
way into the machine's network). An IPv6 address that carries an IPv4 one (IPv4-mapped and
-compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it reaches.

A page is saved under a name unique to its URL (query included); adding the same URL again
replaces that file, and `AddedPage.updated` says so.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import httpx

from index.report import IndexReport
from rag.config import Settings
from rag.errors import BadInputError
from rag.providers.embeddings import Embedder
from rag.store import UPLOADS_PREFIX

MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_SAVED_FROM = re.compile(rb"<!-- saved from url=\(\d+\)(\S+?) -->")
# Characters a URL keeps as they are in the provenance comment; the rest is percent-encoded,
# so no URL can close the comment ("-->") or open markup.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

__all__ = ["MAX_REDIRECTS", "AddedPage", "Download", "add_url", "download", "fetch_page"]


@dataclass
class AddedPage:
    """A page added by URL: where it was saved, its source name, and the index run."""

    url: str
    path: Path
    source: str
    report: IndexReport | None = None
    updated: bool = False  # the URL was added before: its file was replaced


def add_url(
    url: str,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> AddedPage:
    """Download the page at `url` into the upload folder and index the corpus with it.

    Raises:
        BadInputError: the URL is refused or the download fails (the message says why).
    """
    from index.ingest import build_index

    added = fetch_page(url, settings)
    added.report = build_index(None, settings, embedder=embedder, progress=progress)
    return added


def fetch_page(url: str, settings: Settings) -> AddedPage:
    """Download the page at `url` and save it into the upload folder (not indexed yet).

    The saved file opens with a "saved from url" comment, as browsers write it, so the
    article keeps its address even when the page does not state it.

    Raises:
        BadInputError: the URL is refused or the download fails (the message says why).
    """
    final, data = _download(url.strip(), settings)
    final = quote(final, safe=_URL_SAFE)
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(final)
    if path.exists() and _saved_from(path) not in (final, None):
        path = folder / file_name(final, unique=True)  # another URL came to the same name
    updated = path.exists()
    mark = f"<!-- saved from url=({len(final):04d}){final} -->\n".encode()
    path.write_bytes(mark + data)
    return AddedPage(url=final, path=path, source=UPLOADS_PREFIX + path.name, updated=updated)


def file_name(url: str, *, unique: bool = False) -> str:
    """A file name for the page at `url`: host and path, made safe, ending .html; with a short
    hash of the whole URL when it has a query (or `unique`), so `?id=1` and `?id=2` differ."""
    parts = urlsplit(url)
    stem = _SLUG.sub("-", f"{parts.hostname or 'page'}{parts.path}".rstrip("/")).strip("-.")
    stem = stem.removesuffix(".html").removesuffix(".htm")[:120] or "page"
    if parts.query or unique:
        stem += "-" + hashlib.sha256(url.encode()).hexdigest()[:10]
    return f"{stem}.html"


def _saved_from(path: Path) -> str | None:
    """The URL a saved page came from (None if it does not say)."""
    try:
        with path.open("rb") as f:
            found = _SAVED_FROM.match(f.readline())
    except OSError:
        return None
    return found.group(1).decode("utf-8", "replace") if found else None


@dataclass
class Download:
    """A bounded download: the final URL after redirects, the status, headers and body (empty
    for a 304 Not Modified)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes


def download(
    url: str,
    settings: Settings,
    *,
    accept: tuple[str, ...] = HTML_TYPES,
    headers: dict[str, str] | None = None,
    what: str = "a web page",
) -> Download:
    """GET `url` under the download rules (public http(s) hosts, timeout, size cap, redirects
    checked hop by hop, content type one of `accept`).

    Args:
        headers: extra request headers (a feed poll's `If-None-Match`, `If-Modified-Since`).
        what: what `accept` stands for, in the refusal of another type.

    Raises:
        BadInputError: the URL is refused or the download fails (the message says why).
    """
    limit = int(settings.max_file_mb * 1e6)
    timeout = httpx.Timeout(settings.fetch_timeout)
    sent = {"User-Agent": "rag-news/0.1 (+article fetch)", "Accept": ", ".join(accept)}
    with httpx.Client(
        timeout=timeout, follow_redirects=False, headers=sent | (headers or {})
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, settings)
            try:
                with client.stream("GET", url) as response:
                    if response.status_code == 304:  # checked first: httpx counts it a redirect
                        return Download(url, 304, response.headers, b"")
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    body = _body(url, response, limit, settings, accept, what)
                    return Download(url, response.status_code, response.headers, body)
            except httpx.TimeoutException:
                raise BadInputError(
                    f"{url}: no answer within {settings.fetch_timeout:g} s "
                    "(raise RAG_FETCH_TIMEOUT, or try again later)."
                ) from None
            except httpx.HTTPError as exc:
                raise BadInputError(f"{url}: download failed ({exc}); check the address.") from None
    raise BadInputError(f"{url}: more than {MAX_REDIRECTS} redirects; give the final address.")


def _download(url: str, settings: Settings) -> tuple[str, bytes]:
    """The final URL after redirects, and the body of the page (at most the size cap)."""
    got = download(url, settings)
    return got.url, got.body


def _body(
    url: str,
    response: httpx.Response,
    limit: int,
    settings: Settings,
    accept: tuple[str, ...],
    what: str,
) -> bytes:
    if response.status_code >= 400:
        raise BadInputError(f"{url}: the server answered {response.status_code}; check the URL.")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in accept:
        raise BadInputError(
            f"{url}: not {what} ({kind or 'no content type'}); only HTML pages are added "
            "by URL (save other files into the folder instead)."
            if accept == HTML_TYPES
            else f"{url}: not {what} ({kind or 'no content type'}); check the address."
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadInputError(_too_big(url, int(declared), settings))
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise BadInputError(_too_big(url, size, settings))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(url: str, size: int, settings: Settings) -> str:
    return (
        f"{url}: the page is over {settings.max_file_mb:g} MB ({size / 1e6:.1f} MB read); "
        "raise RAG_MAX_FILE_MB to add it."
    )


def check_url(url: str, settings: Settings) -> None:
    """Refuse what is not an http(s) URL of a public host (unless private ones are allowed).

    Raises:
        BadInputError: the scheme, the host, or an address it resolves to is refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadInputError(
            f"{url!r}: only http:// and https:// addresses can be added "
            f"(not {parts.scheme or 'a bare path'}://); save local files into the folder."
        )
    host = parts.hostname
    if not host:
        raise BadInputError(f"{url!r}: no host name in the address.")
    if settings.fetch_allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        raise BadInputError(f"{url}: cannot resolve {host} ({exc}); check the address.") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _is_public(address):
            raise BadInputError(
                f"{url}: {host} is a local or intranet address ({address}), which is not "
                "fetched from here. Save the page from your browser (Save page as…, or print "
                "it to PDF) and add the file instead; an administrator can allow intranet "
                "pages with RAG_FETCH_ALLOW_PRIVATE=true."
            )


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address`, and any IPv4 address it carries, is globally reachable."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address in _NAT64[1]:
        return False  # local-use NAT64 (RFC 8215): a network's own translator
    packed = int(address)
    carried = [
        address.ipv4_mapped,
        address.sixtofour,
        *(address.teredo or ()),
        # NAT64 and the deprecated IPv4-compatible form keep the IPv4 address in the last 32 bits.
        ipaddress.IPv4Address(packed & 0xFFFFFFFF)
        if address in _NAT64[0] or packed >> 32 == 0
        else None,
    ]
    return all(v4.is_global for v4 in carried if v4 is not None)

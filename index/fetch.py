"""Adding a web page by URL: download it safely, save it into the upload folder, index it.

The download is bounded every way a hostile or broken server could stretch it: time
(`RAG_FETCH_TIMEOUT`), size (`RAG_MAX_FILE_MB`, counted while reading), redirects (at most
`MAX_REDIRECTS`, each hop checked again) and type (HTML only). Only http(s) URLs are fetched, and
only from public addresses: a host that resolves to a loopback, private, link-local or reserved
address is refused unless `RAG_FETCH_ALLOW_PRIVATE` is set (a chat open to others must not be a
way into the machine's network).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from index.report import IndexReport
from rag.config import Settings
from rag.errors import BadInputError
from rag.providers.embeddings import Embedder
from rag.store import UPLOADS_PREFIX

MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["MAX_REDIRECTS", "AddedPage", "add_url", "fetch_page"]


@dataclass
class AddedPage:
    """A page added by URL: where it was saved, its source name, and the index run."""

    url: str
    path: Path
    source: str
    report: IndexReport | None = None


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
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(final)
    mark = f"<!-- saved from url=({len(final):04d}){final} -->\n".encode()
    path.write_bytes(mark + data)
    return AddedPage(url=final, path=path, source=UPLOADS_PREFIX + path.name)


def file_name(url: str) -> str:
    """A file name for the page at `url`: host and path, made safe, ending .html."""
    parts = urlsplit(url)
    stem = _SLUG.sub("-", f"{parts.hostname or 'page'}{parts.path}".rstrip("/")).strip("-.")
    stem = stem.removesuffix(".html").removesuffix(".htm")[:120] or "page"
    return f"{stem}.html"


def _download(url: str, settings: Settings) -> tuple[str, bytes]:
    """The final URL after redirects, and the body (at most the size cap)."""
    limit = int(settings.max_file_mb * 1e6)
    timeout = httpx.Timeout(settings.fetch_timeout)
    headers = {"User-Agent": "rag-news/0.1 (+article fetch)", "Accept": "text/html"}
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, settings)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    return url, _body(url, response, limit, settings)
            except httpx.TimeoutException:
                raise BadInputError(
                    f"{url}: no answer within {settings.fetch_timeout:g} s "
                    "(raise RAG_FETCH_TIMEOUT, or try again later)."
                ) from None
            except httpx.HTTPError as exc:
                raise BadInputError(f"{url}: download failed ({exc}); check the address.") from None
    raise BadInputError(f"{url}: more than {MAX_REDIRECTS} redirects; give the final address.")


def _body(url: str, response: httpx.Response, limit: int, settings: Settings) -> bytes:
    if response.status_code >= 400:
        raise BadInputError(f"{url}: the server answered {response.status_code}; check the URL.")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in HTML_TYPES:
        raise BadInputError(
            f"{url}: not a web page ({kind or 'no content type'}); only HTML pages are added "
            "by URL (save other files into the folder instead)."
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
        if not address.is_global:
            raise BadInputError(
                f"{url}: {host} is a local or intranet address ({address}), which is not "
                "fetched from here. Save the page from your browser (Save page as…, or print "
                "it to PDF) and add the file instead; an administrator can allow intranet "
                "pages with RAG_FETCH_ALLOW_PRIVATE=true."
            )

"""What a file really is, from its content (magic bytes and structure), never its name.

``detect(head, file)`` returns a ``FileType`` from the allowlist below or None. Anything
that could run or render active content (SVG, HTML, XML, scripts, programs, macro-enabled
Office files) matches nothing here and is refused by ``chat.services.attachments``.
"""

import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class FileType:
    key: str  # the name used in settings.ATTACHMENTS["ALLOWED_TYPES"]
    content_type: str
    label: str
    extension: str
    previewable: bool = False  # a raster image the dashboard may show after a click


TYPES = {
    t.key: t
    for t in [
        FileType("png", "image/png", "PNG image", "png", True),
        FileType("jpeg", "image/jpeg", "JPEG image", "jpg", True),
        FileType("gif", "image/gif", "GIF image", "gif", True),
        FileType("webp", "image/webp", "WebP image", "webp", True),
        FileType("pdf", "application/pdf", "PDF document", "pdf"),
        FileType("text", "text/plain; charset=utf-8", gettext_lazy("Plain text"), "txt"),
        FileType("csv", "text/csv; charset=utf-8", "CSV spreadsheet", "csv"),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            gettext_lazy("Word document"),
            "docx",
        ),
        FileType(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            gettext_lazy("Excel spreadsheet"),
            "xlsx",
        ),
        FileType(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint presentation",
            "pptx",
        ),
        FileType("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text", "odt"),
        FileType(
            "ods",
            "application/vnd.oasis.opendocument.spreadsheet",
            "OpenDocument spreadsheet",
            "ods",
        ),
        FileType(
            "odp",
            "application/vnd.oasis.opendocument.presentation",
            "OpenDocument presentation",
            "odp",
        ),
    ]
}

# The main part of an OOXML package names what it is in [Content_Types].xml.
_OOXML_MAIN = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
# Text that a browser could take for markup or a program: refused as "text".
_MARKUP = (
    b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe",
    b"<object", b"<embed", b"<meta", b"<link", b"<style", b"<img", b"<a ", b"<div", b"<form",
    b"<table", b"<title", b"<br", b"<p>", b"<!--", b"<xml", b"<xsl", b"<math",
)  # fmt: skip
_TEXT_SNIFF_BYTES = 64 * 1024
_MAX_ZIP_ENTRIES = 5000


def _zip_type(file) -> str | None:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if len(names) > _MAX_ZIP_ENTRIES:
                return None
            lowered = {name.lower() for name in names}
            if any(name.endswith("vbaproject.bin") for name in lowered):
                return None  # macros
            if "mimetype" in names:
                kind = _ODF_MIMETYPES.get(archive.read("mimetype")[:100].strip())
                if kind and "content.xml" in lowered:
                    return kind
                return None
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > 1024 * 1024:
                    return None
                types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
                for key, main in _OOXML_MAIN.items():
                    if f'ContentType="{main}"' in types:
                        return key
            return None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError, EOFError):
        return None
    finally:
        file.seek(0)


def _text_type(head: bytes, name: str) -> str | None:
    sample = head[:_TEXT_SNIFF_BYTES]
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    if b"\x00" in sample:
        return None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(sample) - 4:
            return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in sample[:4096].decode("utf-8", "ignore")):
        return None
    lowered = sample.lower()
    if sample.lstrip().startswith(b"#!") or any(tag in lowered for tag in _MARKUP):
        return None
    if b"<" in lowered and (
        b"javascript:" in lowered or b"onload=" in lowered or b"onerror=" in lowered
    ):
        return None
    return "csv" if name.lower().endswith(".csv") else "text"


def detect(head: bytes, file, name: str = "") -> FileType | None:
    """``head``: the file's first bytes (the whole file when it is small, and at least
    64 KiB otherwise); ``file``: the seekable file, for ZIP-based formats; ``name`` only
    tells CSV from plain text once the content is known to be text."""
    key = None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        key = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        key = "jpeg"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        key = "gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        key = "webp"
    elif head.startswith(b"%PDF-"):
        key = "pdf"
    elif head.startswith(b"PK\x03\x04"):
        key = _zip_type(file)
    elif head[:2] in (b"MZ", b"\x7fE") or head[:4] in (b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe"):
        key = None  # programs
    else:
        key = _text_type(head, name)
    return TYPES.get(key) if key else None

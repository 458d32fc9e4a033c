"""Compose: the JSON content of the messages, edits, media and reactions hearth sends.

Pure functions of text and ids, unit-tested without a client or a server; the HTML body comes
from adapters/matrix/html.py.
"""

from __future__ import annotations

import json
import mimetypes
import struct
from collections.abc import Mapping
from typing import Any

from adapters.matrix.html import render_html

MSGTYPE = "m.notice"  # what bots send, so other bots do not answer us (and we not them)
MAX_EVENT_BYTES = 60_000  # Synapse refuses events over 64 KiB; keep a margin for the envelope
EDIT_FALLBACK_CHARS = 500  # the outer body of an edit is only a fallback for old clients


def _formatted(text: str) -> dict[str, str]:
    html = render_html(text)
    return {"format": "org.matrix.custom.html", "formatted_body": html} if html else {}


def content_size(content: Mapping[str, Any]) -> int:
    """Bytes of ``content`` as the homeserver counts them (compact UTF-8 JSON)."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def message_content(text: str, *, thread_id: str | None = None) -> dict[str, Any]:
    """A new message: Markdown ``body`` plus HTML, in the ``m.thread`` of ``thread_id``."""
    content: dict[str, Any] = {"msgtype": MSGTYPE, "body": text, **_formatted(text)}
    if thread_id:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_id,
            "is_falling_back": True,  # the reply is only for clients without thread support
            "m.in_reply_to": {"event_id": thread_id},
        }
    if content_size(content) > MAX_EVENT_BYTES:
        content.pop("format", None)
        content.pop("formatted_body", None)
    return content


def image_content(
    uri: str,
    filename: str,
    caption: str,
    data: bytes,
    *,
    thread_id: str | None = None,
    keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``m.image`` for uploaded ``data`` at ``uri``; ``body`` is the caption (spec v1.10).

    With ``keys`` (the upload was encrypted) the image is an ``EncryptedFile`` in ``file``.
    """
    info: dict[str, Any] = {"mimetype": image_type(filename), "size": len(data)}
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        info["w"], info["h"] = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return _media_content("m.image", uri, filename, caption, info, thread_id, keys)


def file_content(
    uri: str,
    filename: str,
    caption: str,
    data: bytes,
    mime: str,
    *,
    thread_id: str | None = None,
    keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``m.file`` for uploaded ``data`` at ``uri``, captioned like ``image_content``."""
    info = {"mimetype": mime or file_type(filename), "size": len(data)}
    return _media_content("m.file", uri, filename, caption, info, thread_id, keys)


def _media_content(
    msgtype: str,
    uri: str,
    filename: str,
    caption: str,
    info: dict[str, Any],
    thread_id: str | None,
    keys: Mapping[str, Any] | None,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": caption or filename,
        "filename": filename,
        "info": info,
        **(_formatted(caption) if caption else {}),
    }
    if keys:
        content["file"] = {**keys, "url": uri}
    else:
        content["url"] = uri
    if thread_id:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread_id},
        }
    return content


def image_type(filename: str) -> str:
    """The MIME type of an image by its file name (PNG unless told otherwise)."""
    return mimetypes.guess_type(filename)[0] or "image/png"


def file_type(filename: str) -> str:
    """The MIME type of a file by its name (``application/octet-stream`` when unknown)."""
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def edit_content(event_id: str, text: str) -> dict[str, Any]:
    """An ``m.replace`` edit of ``event_id`` whose ``m.new_content`` is ``text``."""
    new: dict[str, Any] = {"msgtype": MSGTYPE, "body": text, **_formatted(text)}
    fallback = text if len(text) <= EDIT_FALLBACK_CHARS else text[:EDIT_FALLBACK_CHARS] + "…"
    content: dict[str, Any] = {
        "msgtype": MSGTYPE,
        "body": f"* {fallback}",
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }
    if content_size(content) > MAX_EVENT_BYTES:
        new.pop("format", None)
        new.pop("formatted_body", None)
    return content


def reaction_content(event_id: str, key: str) -> dict[str, Any]:
    """An ``m.reaction`` annotation of ``event_id`` with ``key``."""
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}

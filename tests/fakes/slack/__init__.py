"""FakeSlack: a loopback aiohttp fake of Slack's Web API and Socket Mode, for the real SDKs.

The unmodified ``slack_sdk.AsyncWebClient(base_url=fake.base_url)`` and bolt's
``AsyncSocketModeHandler`` talk to it. Served:

- ``POST /api/{method}`` (JSON or form bodies, ``Authorization: Bearer``): ``auth.test``,
  ``chat.postMessage`` (keeps message state, ``msg_too_long`` over 40 000 chars),
  ``chat.update`` (``message_not_found``, ``cant_update_message``), ``reactions.add``
  (``already_reacted``), ``conversations.open`` (one user: DM channel ``D<user>``),
  ``apps.connections.open`` (needs the ``xapp-`` token),
  ``files.getUploadURLExternal`` + ``POST /upload/{id}`` + ``files.completeUploadExternal``
  (what ``files_upload_v2`` does; the file lands in ``files`` and its message), ``files.info``
  (``share_delay`` hides a completed file's share for that many answers); any other
  method answers ``unknown_method``. ``rate_limit(method, times, retry_after)`` makes the next
  calls answer HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``.
- ``GET /link``: the Socket Mode websocket: ``hello`` on connect, envelopes pushed with
  ``send_envelope``, acks recorded in ``acks``.

Inbound HTTP Events are sent to the app with ``post_signed`` (real v0 signatures, like Slack);
payload builders (``mention``, ``dm``, ``thread_reply``, ``reaction_added``, ``button_click``)
produce the documented shapes with unique event ids.

server (state, lifecycle, queries) · webapi · delivery (Socket Mode, HTTP Events) · payloads
(builders) · records (stored values).
"""

from tests.fakes.slack.records import APP_ID, TEAM_ID, ApiCall, SlackFile, SlackMessage
from tests.fakes.slack.server import FakeSlack

__all__ = ["APP_ID", "TEAM_ID", "ApiCall", "FakeSlack", "SlackFile", "SlackMessage"]

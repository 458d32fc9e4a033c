"""Slack's Web API as hearth calls it: SDK errors become core errors; one-shot calls are retried.

Streaming edits are never retried here: they raise ``RateLimited`` so the renderer paces itself.
One-shot posts (answers, notices, prompts, reactions) are retried on 429 after ``Retry-After``
so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from core.errors import PlatformError, RateLimited

from . import translate

log = logging.getLogger(__name__)

_ONE_SHOT_RETRIES = 3  # post/react/approval prompts: retried on 429, never lost
_MAX_ONE_SHOT_WAIT = 30.0  # a longer Retry-After is handed to the caller as RateLimited


def web_client(bot_token: str, api_url: str | None) -> AsyncWebClient:
    """The SDK client for ``api_url`` (Slack's own when None)."""
    base_url = api_url or AsyncWebClient.BASE_URL
    # slack_sdk joins method names onto base_url; without the slash "…/api" + "chat.update"
    # silently becomes "…/chat.update".
    return AsyncWebClient(
        token=bot_token, base_url=base_url if base_url.endswith("/") else base_url + "/"
    )


async def call(method: str, pending: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Await one Web API call, translating SDK errors into ``core.errors``."""
    try:
        return await pending
    except SlackApiError as e:
        resp = e.response
        raise translate.api_error(
            method, resp.status_code, str(resp.get("error") or ""), resp.headers or {}
        ) from e
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as e:
        raise PlatformError(f"slack {method}: {type(e).__name__}: {e}") from e


async def one_shot(
    method: str, make: Callable[[], Awaitable[AsyncSlackResponse]]
) -> AsyncSlackResponse:
    """``call`` retried after a short ``Retry-After``: what it posts must not be lost."""
    for attempt in range(_ONE_SHOT_RETRIES + 1):
        try:
            return await call(method, make())
        except RateLimited as e:
            if attempt == _ONE_SHOT_RETRIES or e.retry_after > _MAX_ONE_SHOT_WAIT:
                raise
            log.info("slack %s: rate limited, retrying in %.1fs", method, e.retry_after)
            await asyncio.sleep(e.retry_after)
    raise AssertionError("unreachable")  # pragma: no cover

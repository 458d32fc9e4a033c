"""compose.py: the JSON of what hearth sends (messages, edits) within Synapse's limits."""

from __future__ import annotations

from adapters.matrix import compose


def test_message_content_is_threaded_markdown_with_html() -> None:
    content = compose.message_content("**hi** <b>x</b>", thread_id="$root")
    assert content["body"] == "**hi** <b>x</b>" and content["msgtype"] == "m.notice"
    assert content["formatted_body"] == "<p><strong>hi</strong> &lt;b&gt;x&lt;/b&gt;</p>"
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$root"},
    }
    plain = compose.message_content("just text")
    assert "formatted_body" not in plain and "m.relates_to" not in plain


def test_edit_content_is_an_m_replace_within_the_event_size_limit() -> None:
    content = compose.edit_content("$orig", "done ✅")
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}
    assert content["m.new_content"]["body"] == "done ✅"
    assert content["body"] == "* done ✅"
    huge = compose.edit_content("$orig", "`x` 漢字 " * 2000)  # 16 000 chars, HTML doubles it
    assert compose.content_size(huge) <= compose.MAX_EVENT_BYTES
    assert len(huge["body"]) < 1000  # the outer body is only a fallback

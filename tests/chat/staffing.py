"""Helpers for presence, internal chat and transfer tests (issue 4)."""

from chat import services


def bring_online(operator, channel=None):
    """Online with a live dashboard connection: available for chats and transfers."""
    services.connection_open(operator=operator, channel_name=channel or f"test-chan-{operator.pk}")
    services.presence_set(operator=operator, status="online")
    operator.refresh_from_db()
    return operator


def event_types(captured):
    return [event["type"] for _groups, event in captured]


def events_of(captured, kind):
    return [(groups, event) for groups, event in captured if event["type"] == kind]

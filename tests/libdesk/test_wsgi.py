"""Pages behind the proxy under Gunicorn count the patron's address, not the proxy's."""

from libdesk.wsgi import ForwardedFor


def seen_address(**environ):
    seen = {}

    def app(env, start_response):
        seen["address"] = env.get("REMOTE_ADDR")
        return []

    ForwardedFor(app)({"REMOTE_ADDR": "172.18.0.5", **environ}, lambda *a: None)
    return seen["address"]


def test_the_address_our_proxy_appended_wins_over_what_the_client_claims():
    assert seen_address(HTTP_X_FORWARDED_FOR="203.0.113.9") == "203.0.113.9"
    assert seen_address(HTTP_X_FORWARDED_FOR="10.6.6.6, 203.0.113.9") == "203.0.113.9"


def test_without_the_header_the_peer_address_stays():
    assert seen_address() == "172.18.0.5"
    assert seen_address(HTTP_X_FORWARDED_FOR=" ") == "172.18.0.5"

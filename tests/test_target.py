"""Request names in logs, notes and events: what stays, and the secret shapes that never do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit._target import OPAQUE_LENGTH, REDACTED, TOKEN_LENGTH, host_of, safe_path, safe_target

R = REDACTED


@pytest.mark.parametrize(
    ("url", "name"),
    [
        # What stays: method, scheme, host, port, and a path of resource names and ids.
        ("https://api.example.com/v1/users/12345", "GET https://api.example.com/v1/users/12345"),
        ("http://127.0.0.1:8080/v1/chat/completions", "GET http://127.0.0.1:8080/v1/chat/completions"),
        ("http://[::1]:8080/health", "GET http://[::1]:8080/health"),
        # Userinfo, query and fragment go.
        ("https://user:pw@api.example.com/x?api_key=sk-123#frag", "GET https://api.example.com/x"),
        # Telegram: the bot token is "<id>:<secret>" in the path.
        (
            "https://api.telegram.org/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage",
            f"GET https://api.telegram.org/{R}/sendMessage",
        ),
        # Slack and Discord webhooks: the last segment is the secret.
        (
            "https://hooks.slack.com/services/T00000000/B00000000/aBcD1234eFgH5678iJkL9012",
            f"GET https://hooks.slack.com/services/T00000000/B00000000/{R}",
        ),
        (
            "https://discord.com/api/webhooks/123456789012345678/AbC_dEf-123xyz789QrStUvWx",
            f"GET https://discord.com/api/webhooks/123456789012345678/{R}",
        ),
        # Path parameters are dropped: ;jsessionid=..., ;token=...
        ("https://shop.example/cart;jsessionid=0123456789ABCDEF/items", "GET https://shop.example/cart/items"),
        # A key=value segment, a key in the path, a signed blob, a user@host.
        ("https://x.example/auth/token=abc/x", f"GET https://x.example/auth/{R}/x"),
        ("https://x.example/keys/sk-live-4eC39HqLyjWDarjtT1zdp7dc", f"GET https://x.example/keys/{R}"),
        ("https://x.example/f/" + "a" * 40, f"GET https://x.example/f/{R}"),
        ("https://x.example/u/alice@example.com", f"GET https://x.example/u/{R}"),
    ],
)
def test_request_names_keep_the_route_and_drop_secret_shapes(url: str, name: str) -> None:
    assert safe_target("get", url) == name


def test_a_url_that_does_not_parse_names_only_the_method() -> None:
    assert safe_target("post", "http://[::1/x") == "POST"


@given(st.text(alphabet="abcdefghijkLMNOP0123456789-_", min_size=TOKEN_LENGTH, max_size=60))
def test_every_long_token_mixing_letters_and_digits_is_replaced(token: str) -> None:
    mixed = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    if mixed or len(token) >= OPAQUE_LENGTH:
        assert token not in safe_path(f"/v1/{token}/x")


@given(st.text(min_size=1, max_size=80))
def test_no_path_parameter_survives(secret: str) -> None:
    path = safe_path(f"/a;s={secret}/b")
    assert ";" not in path
    assert path.startswith("/a/")


def test_host_of_is_untouched_by_redaction() -> None:
    assert host_of("https://api.telegram.org/bot1:x/") == "api.telegram.org:443"

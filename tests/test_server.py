"""FlakyServer: per-path scripts, played in order, ahead of the shared script."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from retrykit.testing import FlakyServer, Reply


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_each_path_plays_its_own_replies_in_order() -> None:
    paths = {
        "/v1/tasks/1": [Reply(202, {"status": "pending"}), Reply(200, {"status": "done"})],
        "/v1/tasks/old": [Reply.error(410, "expired")],
    }
    with FlakyServer(paths=paths) as server:
        assert _get(server.url + "/v1/tasks/1")[1] == b'{"status": "pending"}'
        assert _get(server.url + "/v1/tasks/old")[0] == 410
        assert _get(server.url + "/v1/tasks/1") == (200, b'{"status": "done"}')


def test_a_path_is_matched_without_its_query_string() -> None:
    with FlakyServer(paths={"/v1/tasks/1": [Reply(202)]}) as server:
        assert _get(server.url + "/v1/tasks/1?api_key=k")[0] == 202
        assert server.requests[0].path == "/v1/tasks/1?api_key=k"


def test_other_paths_and_spent_path_scripts_fall_back_to_the_shared_script_then_the_default() -> None:
    with FlakyServer([Reply(201), Reply(203)], paths={"/a": [Reply(202)]}) as server:
        assert [_get(server.url + p)[0] for p in ("/b", "/a", "/a", "/a")] == [201, 202, 203, 200]


def test_add_appends_to_a_paths_script() -> None:
    with FlakyServer() as server:
        server.add(Reply(202), Reply(204), path="/poll")
        server.add(Reply(201))
        assert [_get(server.url + p)[0] for p in ("/x", "/poll", "/poll", "/poll")] == [201, 202, 204, 200]


@pytest.mark.parametrize("path", ["v1/tasks", "/v1/tasks?id=1", 3])
def test_a_path_that_could_never_match_is_refused(path: object) -> None:
    with pytest.raises(ValueError, match="paths"):
        FlakyServer(paths={path: [Reply(200)]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="paths"):
        FlakyServer().add(Reply(200), path=path)  # type: ignore[arg-type]

"""airhttp's h2 state machine against h2's own, fed the same server bytes.

`_h2_connection._ClientState` changes two of h2's frame handlers: DATA frames skip h2's
trace formatting, and GOAWAY leaves the spared streams running. Everything else it must
report exactly as h2 does; this pins that down across h2 versions.
"""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events

from airhttp._h2_connection import _CONFIG, _ClientState

_REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"h"), (b":path", b"/")]


def _pair() -> tuple[h2.connection.H2Connection, list[h2.connection.H2Connection]]:
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    clients = [h2.connection.H2Connection(config=_CONFIG), _ClientState(_CONFIG, lambda: 0)]
    server.initiate_connection()
    for client in clients:
        client.initiate_connection()
    preface = clients[0].data_to_send()
    assert preface == clients[1].data_to_send()
    server.receive_data(preface)
    return server, clients


def _events(client: h2.connection.H2Connection, data: bytes) -> list[Any]:
    out = []
    for event in client.receive_data(data):
        fields = {k: repr(v) for k, v in vars(event).items() if k != "stream_ended"}
        out.append((type(event).__name__, fields))
    return out


def _same(clients: list[h2.connection.H2Connection], data: bytes) -> list[Any]:
    stock, ours = (_events(client, data) for client in clients)
    assert ours == stock
    assert clients[1].data_to_send() == clients[0].data_to_send()
    return ours


def test_data_frames_give_h2s_events_and_replies() -> None:
    server, clients = _pair()
    _same(clients, server.data_to_send())
    for stream_id in (1, 3, 5):
        for client in clients:
            client.send_headers(stream_id, _REQUEST, end_stream=True)
        server.receive_data(clients[0].data_to_send())
        clients[1].data_to_send()
    for stream_id in (1, 3, 5):
        server.send_headers(stream_id, [(b":status", b"200")])
    server.send_data(1, b"x" * 1000)
    server.send_data(3, b"y" * 500, pad_length=20)
    server.send_data(1, b"", end_stream=True)
    events = _same(clients, server.data_to_send())
    assert [name for name, _ in events].count("DataReceived") == 3
    for client in clients:  # the client gives up on stream 5; the server still sends
        client.reset_stream(5)
        client.acknowledge_received_data(1000, 1)
    _same(clients, b"")
    server.send_data(5, b"late" * 100)
    server.send_data(3, b"z", end_stream=True)
    events = _same(clients, server.data_to_send())
    assert ("StreamEnded", {"stream_id": "3"}) in events


def test_goaway_spares_the_streams_up_to_its_last_id() -> None:
    server, clients = _pair()
    _same(clients, server.data_to_send())
    for stream_id in (1, 3):
        for client in clients:
            client.send_headers(stream_id, _REQUEST, end_stream=True)
        server.receive_data(clients[0].data_to_send())
        clients[1].data_to_send()
    goaway = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + (1).to_bytes(4, "big") + b"\x00" * 4
    ours = _events(clients[1], goaway)
    assert ours == [
        (
            "ConnectionTerminated",
            {
                "error_code": repr(h2.errors.ErrorCodes.NO_ERROR),
                "last_stream_id": "1",
                "additional_data": "None",
            },
        )
    ]
    server.send_headers(1, [(b":status", b"200")], end_stream=True)
    events = _events(clients[1], server.data_to_send())
    assert [name for name, _ in events] == ["ResponseReceived", "StreamEnded"]


def test_data_frames_built_directly_match_hyperframes() -> None:
    from hyperframe.frame import DataFrame, Frame

    from airhttp._h2_connection import _data_frame

    for frame in (
        DataFrame(1, data=b"abc"),
        DataFrame(3, data=b"", flags=("END_STREAM",)),
        DataFrame(5, data=b"xyz", flags=("PADDED",), pad_length=4),
    ):
        raw = memoryview(frame.serialize())
        parsed, _ = Frame.parse_frame_header(raw[:9])
        parsed.parse_body(raw[9:])
        built = _data_frame(raw[:9], raw[9:])
        assert type(built) is DataFrame
        for name in ("stream_id", "data", "pad_length", "body_len", "flow_controlled_length"):
            assert getattr(built, name) == getattr(parsed, name), name
        assert set(built.flags) == set(parsed.flags)

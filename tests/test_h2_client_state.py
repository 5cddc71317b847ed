"""airhttp's h2 state machine against h2's own, fed the same server bytes.

`_h2_state.ClientState` cuts frames itself, takes DATA frames on open streams past h2's
connection, leaves the streams a GOAWAY spares running, and sends a request's header block
without h2's frame objects. Everything else it must report and send exactly as h2 does;
this pins that down across h2 versions.
"""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import pytest
from hyperframe.frame import RstStreamFrame

from airhttp._h2_state import CONFIG, BadBodyLength, ClientState

_REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"h"), (b":path", b"/")]


def _pair() -> tuple[h2.connection.H2Connection, list[h2.connection.H2Connection]]:
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    clients = [h2.connection.H2Connection(config=CONFIG), ClientState(lambda: 0)]
    server.initiate_connection()
    for client in clients:
        client.initiate_connection()
    preface = clients[0].data_to_send()
    assert preface == clients[1].data_to_send()
    server.receive_data(preface)
    return server, clients


def _events(client: h2.connection.H2Connection, data: bytes) -> list[Any]:
    out = []
    if isinstance(client, ClientState):
        events = client.receive(memoryview(data))
    else:
        events = client.receive_data(data)
    for event in events:
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


def _one_request() -> tuple[h2.connection.H2Connection, list[h2.connection.H2Connection]]:
    """A server and both clients, with stream 1's request (no body) sent by each."""
    server, clients = _pair()
    _same(clients, server.data_to_send())
    for client in clients:
        client.send_headers(1, _REQUEST, end_stream=True)
    server.receive_data(clients[0].data_to_send())
    clients[1].data_to_send()
    return server, clients


def _same_error(clients: list[h2.connection.H2Connection], data: bytes) -> str:
    errors = []
    for client in clients:
        with pytest.raises(h2.exceptions.ProtocolError) as caught:
            _events(client, data)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
    return errors[0][1]


def test_data_after_our_goaway_fails_as_in_h2() -> None:
    server, clients = _one_request()
    server.send_headers(1, [(b":status", b"200")])
    _same(clients, server.data_to_send())
    for client in clients:
        client.close_connection()
    _same(clients, b"")
    server.send_data(1, b"after")
    _same_error(clients, server.data_to_send())


@pytest.mark.parametrize("interim", [False, True])
def test_data_before_the_final_head_fails_as_in_h2(interim: bool) -> None:
    server, clients = _one_request()
    if interim:
        server.send_headers(1, [(b":status", b"103")])
        _same(clients, server.data_to_send())
    data = b"\x00\x00\x03\x00\x00\x00\x00\x00\x01abc"  # DATA on stream 1, no END_STREAM
    assert "before headers" in _same_error(clients, data)


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


def test_requests_go_out_as_send_headers_sends_them() -> None:
    """send_request: the same bytes and stream state as h2's send_headers, CONTINUATION
    frames included, and the same answers read afterwards."""
    server, clients = _pair()
    _same(clients, server.data_to_send())
    big = [*_REQUEST, (b"x-big", b"v" * 40000)]  # beyond one 16 KiB frame
    head = [(b":method", b"HEAD"), *_REQUEST[1:]]
    for fields, end_stream in ((_REQUEST, True), (big, False), (head, True), (_REQUEST, False)):
        stream_id = clients[0].get_next_available_stream_id()
        clients[0].send_headers(stream_id, fields, end_stream=end_stream)
        assert clients[1].send_request(fields, end_stream) == stream_id
        sent = clients[0].data_to_send()
        assert clients[1].data_to_send() == sent
        stock, ours = (client.streams[stream_id] for client in clients)
        assert ours.state_machine.state == stock.state_machine.state
        assert ours.request_method == stock.request_method
        assert clients[1].highest_outbound_stream_id == clients[0].highest_outbound_stream_id
        server.receive_data(sent)
    for client in clients:
        client.send_data(3, b"body", end_stream=True)
    assert clients[1].data_to_send() == clients[0].data_to_send()
    for stream_id in (1, 3, 5):
        server.send_headers(stream_id, [(b":status", b"200"), (b"content-length", b"4")])
    server.send_data(1, b"abcd", end_stream=True)
    server.send_data(5, b"", end_stream=True)  # HEAD: no body whatever its length says
    events = _same(clients, server.data_to_send())
    assert [name for name, _ in events].count("StreamEnded") == 2


def test_requests_beyond_the_servers_stream_cap_are_refused_as_h2_does() -> None:
    sent: list[int] = []
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    client = ClientState(lambda: len(sent))
    server.initiate_connection()
    server.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
    client.initiate_connection()
    client.receive_data(server.data_to_send())
    sent.append(client.send_request(_REQUEST, True))
    with pytest.raises(h2.exceptions.TooManyStreamsError):
        client.send_request(_REQUEST, True)
    assert list(client.streams) == [1]


@pytest.mark.parametrize("end_stream", [False, True])
def test_a_body_beyond_its_content_length_resets_only_that_stream(end_stream: bool) -> None:
    """h2 raises for the whole connection; ClientState makes it the stream error RFC 9113
    8.1.1 asks for (RST_STREAM), with h2's message, and counts the bytes as processed
    for the connection's window."""
    server, clients = _one_request()
    server.send_headers(1, [(b":status", b"200"), (b"content-length", b"2")])
    _same(clients, server.data_to_send())
    server.send_data(1, b"12345", end_stream=end_stream)
    data = server.data_to_send()
    with pytest.raises(h2.exceptions.InvalidBodyLengthError) as caught:
        clients[0].receive_data(data)
    ours = clients[1]
    assert isinstance(ours, ClientState)
    events = ours.receive(memoryview(data))
    assert [(type(e), e.stream_id, e.message) for e in events] == [
        (BadBodyLength, 1, str(caught.value))
    ]
    sent = ours.data_to_send()
    assert sent.startswith(RstStreamFrame(1, error_code=1).serialize())  # PROTOCOL_ERROR
    replies = server.receive_data(sent)
    # A stream the server ended is closed on its side: it drops the reset.
    assert [type(e) for e in replies] == ([] if end_stream else [h2.events.StreamReset])
    assert ours._inbound_flow_control_window_manager._bytes_processed == 5

"""Envoy access-log formats other than the default, for :mod:`parsers.envoy`.

* A format string (a source's ``envoy_format`` in the config)::

      [%START_TIME%] %REQ(X-REQUEST-ID)% %REQ(TRACEPARENT)% "%REQ(:METHOD)% %REQ(:PATH)%" %RESPONSE_CODE%

  becomes one regex with a named group per command operator: a value runs up to the character that follows
  the operator in the format (a blank, a quote, ...), so ``"%REQ(USER-AGENT)%"`` may hold blanks. Commands
  map to the record's columns (:data:`COLUMNS`); any other known command goes into the attributes.
* A JSON format (Envoy's ``json_format``): the same commands as the values of a JSON object, given as
  ``envoy_format`` too (``{"ts": "%START_TIME%", "status": "%RESPONSE_CODE%"}``); without it, JSON access
  logs are read by the keys Istio, Envoy Gateway and Contour use (:data:`JSON_KEYS`).

An unknown command is a ``ValueError`` that names it (the config turns it into a one-line error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# The record's columns, and the commands that fill them (a header is REQ(<name>), upper case).
COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("START_TIME",),
    "method": ("REQ(:METHOD)",),
    "target": ("REQ(X-ENVOY-ORIGINAL-PATH?:PATH)", "REQ(:PATH)", "REQ(X-ENVOY-ORIGINAL-PATH)"),
    "protocol": ("PROTOCOL",),
    "status": ("RESPONSE_CODE",),
    "flags": ("RESPONSE_FLAGS",),
    "bytes_received": ("BYTES_RECEIVED",),
    "bytes_sent": ("BYTES_SENT",),
    "duration": ("DURATION",),
    "upstream_time": ("RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)",),
    "forwarded_for": ("REQ(X-FORWARDED-FOR)",),
    "agent": ("REQ(USER-AGENT)",),
    "request_id": ("REQ(X-REQUEST-ID)",),
    "authority": ("REQ(:AUTHORITY)",),
    "upstream_host": ("UPSTREAM_HOST",),
    "traceparent": ("REQ(TRACEPARENT)",),
    "b3": ("REQ(B3)",),
    "b3_trace": ("REQ(X-B3-TRACEID)",),
    "b3_span": ("REQ(X-B3-SPANID)",),
    "trace_hex": ("TRACE_ID",),
}
_COLUMN_OF = {command: column for column, commands in COLUMNS.items() for command in commands}

# Command operators without an argument (Envoy's access-log docs), beyond those of COLUMNS.
_PLAIN_NAMES = """
    ACCESS_LOG_TYPE BYTES_RETRANSMITTED CONNECTION_ID CONNECTION_TERMINATION_DETAILS
    DOWNSTREAM_DIRECT_REMOTE_ADDRESS DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT
    DOWNSTREAM_DIRECT_REMOTE_PORT DOWNSTREAM_HANDSHAKE_DURATION DOWNSTREAM_LOCAL_ADDRESS
    DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT DOWNSTREAM_LOCAL_DNS_SAN DOWNSTREAM_LOCAL_PORT
    DOWNSTREAM_LOCAL_SUBJECT DOWNSTREAM_LOCAL_URI_SAN DOWNSTREAM_PEER_CERT DOWNSTREAM_PEER_CERT_V_END
    DOWNSTREAM_PEER_CERT_V_START DOWNSTREAM_PEER_DNS_SAN DOWNSTREAM_PEER_FINGERPRINT_1
    DOWNSTREAM_PEER_FINGERPRINT_256 DOWNSTREAM_PEER_ISSUER DOWNSTREAM_PEER_SERIAL DOWNSTREAM_PEER_SUBJECT
    DOWNSTREAM_PEER_URI_SAN DOWNSTREAM_REMOTE_ADDRESS DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT
    DOWNSTREAM_REMOTE_PORT DOWNSTREAM_TLS_CIPHER DOWNSTREAM_TLS_SESSION_ID DOWNSTREAM_TLS_VERSION
    DOWNSTREAM_TRANSPORT_FAILURE_REASON DOWNSTREAM_WIRE_BYTES_RECEIVED DOWNSTREAM_WIRE_BYTES_SENT
    DOWNSTREAM_WIRE_HEADER_BYTES_RECEIVED DOWNSTREAM_WIRE_HEADER_BYTES_SENT HOSTNAME LOCAL_REPLY_BODY
    REQUESTED_SERVER_NAME REQUEST_DURATION REQUEST_HEADERS_BYTES REQUEST_TX_DURATION RESPONSE_CODE_DETAILS
    RESPONSE_DURATION RESPONSE_FLAGS_LONG RESPONSE_HEADERS_BYTES RESPONSE_TRAILERS_BYTES
    RESPONSE_TX_DURATION ROUTE_NAME STREAM_ID UNIQUE_ID UPSTREAM_CLUSTER UPSTREAM_CLUSTER_RAW
    UPSTREAM_CONNECTION_ID UPSTREAM_HEADER_BYTES_RECEIVED UPSTREAM_HEADER_BYTES_SENT UPSTREAM_LOCAL_ADDRESS
    UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT UPSTREAM_LOCAL_PORT UPSTREAM_PEER_SUBJECT UPSTREAM_PEER_URI_SAN
    UPSTREAM_PROTOCOL UPSTREAM_REMOTE_ADDRESS UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT UPSTREAM_REMOTE_PORT
    UPSTREAM_REQUEST_ATTEMPT_COUNT UPSTREAM_TLS_CIPHER UPSTREAM_TLS_SESSION_ID UPSTREAM_TLS_VERSION
    UPSTREAM_TRANSPORT_FAILURE_REASON UPSTREAM_WIRE_BYTES_RECEIVED UPSTREAM_WIRE_BYTES_SENT
    VIRTUAL_CLUSTER_NAME
"""
_PLAIN = frozenset(_PLAIN_NAMES.split())
# Command operators with an argument in parentheses.
_ARGUMENT_NAMES = """
    CEL CLUSTER_METADATA COMMON_DURATION DYNAMIC_METADATA ENVIRONMENT FILTER_STATE METADATA REQ RESP
    REQ_WITHOUT_QUERY START_TIME TRAILER UPSTREAM_FILTER_STATE UPSTREAM_METADATA
"""
_WITH_ARGUMENT = frozenset(_ARGUMENT_NAMES.split())
_OPERATOR = re.compile(r"%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::[0-9]+)?%")

# JSON access logs without a configured format: the keys Istio, Envoy Gateway and Contour write.
JSON_KEYS: dict[str, tuple[str, ...]] = {
    "time": ("start_time", "@timestamp", "timestamp", "time"),
    "method": ("method",),
    "target": ("path", "x_envoy_original_path"),
    "protocol": ("protocol",),
    "status": ("response_code",),
    "flags": ("response_flags",),
    "bytes_received": ("bytes_received",),
    "bytes_sent": ("bytes_sent",),
    "duration": ("duration",),
    "upstream_time": ("upstream_service_time", "x_envoy_upstream_service_time"),
    "forwarded_for": ("x_forwarded_for",),
    "agent": ("user_agent",),
    "request_id": ("request_id", "x_request_id"),
    "authority": ("authority",),
    "upstream_host": ("upstream_host",),
    "traceparent": ("traceparent",),
    "b3": ("b3",),
    "b3_trace": ("x_b3_traceid", "x-b3-traceid"),
    "b3_span": ("x_b3_spanid", "x-b3-spanid"),
    "trace_hex": ("trace_id",),
}
# Keys that tell an Envoy JSON access log from other JSON logs (with the time and a request line).
JSON_MARKERS = ("response_code", "response_flags", "upstream_host", "upstream_cluster", "bytes_sent")


def _operator(command: str, argument: str | None) -> str:
    """The canonical text of an operator (``REQ(X-Request-Id)`` -> ``REQ(X-REQUEST-ID)``); ValueError for an
    unknown one."""
    if argument is None and command in _PLAIN | {c for c in _COLUMN_OF if "(" not in c} | {"START_TIME"}:
        return command
    if argument is not None and command in _WITH_ARGUMENT:
        return f"{command}({argument.upper()})" if command in ("REQ", "RESP", "TRAILER") else command
    if command in _WITH_ARGUMENT:
        raise ValueError(f"command operator '%{command}%' needs an argument, e.g. '%{command}(...)%'")
    raise ValueError(f"unknown command operator '%{command}{f'({argument})' if argument else ''}%'")


def attribute(operator: str, argument: str | None) -> str:
    """The attribute key of a command that has no column of its own."""
    if operator.startswith(("REQ(", "RESP(", "TRAILER(")) and argument:
        side = {"REQ": "request", "RESP": "response", "TRAILER": "response.trailer"}[operator.split("(")[0]]
        return f"http.{side}.header.{argument.lower()}"
    name = operator.lower()
    return f"envoy.{name}({argument})" if argument else f"envoy.{name}"


@dataclass(frozen=True)
class Field:
    column: str | None  # a column of COLUMNS, else None (then ``attribute`` names it)
    attribute: str
    time_format: str | None = None  # START_TIME(<format>): the format of the time (strftime)


def _field(command: str, argument: str | None) -> Field:
    operator = _operator(command, argument)
    if command == "START_TIME":
        # Envoy's time formats are strftime with %3f/%6f/%9f and %s, which chrono reads the same way
        return Field("time", "start_time", argument or None)
    return Field(_COLUMN_OF.get(operator), attribute(operator, argument))


def _literal(text: str) -> str:
    """Literal format text as regex; a ``%`` that starts no valid operator is named in a ValueError."""
    bad = re.search(r"%[^%\s]*%?", text)
    if bad is not None:
        raise ValueError(f"unknown command operator '{bad.group(0)}'")
    return re.escape(text)


def text_regex(fmt: str) -> tuple[str, dict[str, Field]]:
    """The regex of a format string (named groups ``f0``, ``f1``, ...) and the field of each group."""
    parts: list[str] = []
    fields: dict[str, Field] = {}
    pos = 0
    ops = list(_OPERATOR.finditer(fmt))
    for k, m in enumerate(ops):
        parts.append(_literal(fmt[pos : m.start()]))
        group = f"f{k}"
        fields[group] = _field(m.group(1), m.group(2))
        follower = fmt[m.end()] if m.end() < len(fmt) else None
        if follower is None:
            value = ".*"
        elif k + 1 < len(ops) and ops[k + 1].start() == m.end():
            value = ".*?"  # two operators back to back: nothing tells them apart but the next one
        else:
            stop = f"[^{re.escape(follower)}]*"
            # a time format may put the follower inside the time (`%Y-%m-%d %H:%M:%S` then a blank)
            inside = (m.group(2) or "").count(follower) if m.group(1) == "START_TIME" else 0
            value = stop + f"(?:{re.escape(follower)}{stop}){{{inside}}}" if inside else stop
        parts.append(f"(?P<{group}>{value})")
        pos = m.end()
    parts.append(_literal(fmt[pos:]))
    if not any(f.column == "time" for f in fields.values()):
        raise ValueError("has no %START_TIME%: a record needs its time")
    return "^" + "".join(parts) + r"[ \t\r]*$", fields


def json_fields(fmt: str) -> dict[str, Field]:
    """The field of each key of a JSON format (``{"ts": "%START_TIME%", ...}``); a value may hold text
    around its operator, but one operator per key is read."""
    try:
        spec = json.loads(fmt)
    except ValueError as exc:
        raise ValueError(f"is not a JSON object: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError("is not a JSON object")
    fields: dict[str, Field] = {}
    for key, value in spec.items():
        if not isinstance(value, str):
            continue  # nested objects and constants are not read
        m = _OPERATOR.search(value)
        if m is not None:
            fields[key] = _field(m.group(1), m.group(2))
    if not any(f.column == "time" for f in fields.values()):
        raise ValueError("has no %START_TIME%: a record needs its time")
    return fields


def check(fmt: str) -> None:
    """ValueError (naming the problem) when ``fmt`` is not a valid format string or JSON format."""
    if fmt.lstrip().startswith("{"):
        json_fields(fmt)
    else:
        text_regex(fmt)

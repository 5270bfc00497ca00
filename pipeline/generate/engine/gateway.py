"""The edge: nginx proxies each request, wraps the upstream's SERVER span in its own span (Zipkin) and
writes its access-log line when the response is done, with the trace header the client sent.

Without ``mixed_ids`` the header is W3C ``traceparent``; with it, B3 single (``$http_b3``): the legacy app's
64-bit trace IDs show as 16 hex digits. The header's span is the client's (never exported): the line's true
span is the gateway's own, a child of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate.engine.calls import Call, Handler
from pipeline.generate.engine.core import Engine, Req
from pipeline.generate.engine.topology import ID_FORM
from pipeline.generate.render import seconds, time_local

_ERROR_BODY = {400: 96, 404: 64, 500: 87, 502: 87, 503: 91, 504: 91}


@dataclass(slots=True)
class Client:
    """Who sent the request: address, user agent and the trace header it carries (if any)."""

    addr: str
    agent: str
    header: str | None  # "b3" or "traceparent"; None: no header (nginx starts the trace)


def gateway(
    eng: Engine,
    req: Req,
    client: Client,
    start_us: int,
    method: str,
    path: str,
    route: str,
    target: str,
    handler: Handler,
) -> int:
    """nginx proxies one request to ``target``; its span (Zipkin) wraps the upstream's SERVER span."""
    gw_host = eng.services["api-gateway"].hosts[0]
    gw = eng.span(req, req.client_span_id, gw_host, "server", f"{method} {route}", "SERVER", start_us)
    gw.attributes.update({"http.method": method, "http.path": path, "component": "nginx"})
    up_host = eng.rng.choice(eng.services[target].hosts)
    up = eng.span(
        req, gw.span_id, up_host, "server", f"{method} {route}", "SERVER", start_us + eng.us(0.3, 1.2)
    )
    up.attributes.update({"http.request.method": method, "http.route": route, "url.path": path})
    status = handler(Call(eng, req, up_host, up, f"http-nio-8080-exec-{eng.rng.randint(1, 12)}"))
    end = up.end_us + eng.us(0.2, 0.9)
    gw.end_us = end
    gw.attributes["http.status_code"] = status
    if status >= 500:
        gw.status, gw.status_message = "ERROR", f"upstream answered {status}"
    header = "-"
    if req.client_span_id is not None and client.header == "b3":
        trace = req.trace_id[16:] if req.id64 else req.trace_id
        header = f"{trace}-{req.client_span_id}-{1 if req.sampled else 0}"
    elif req.client_span_id is not None:
        header = req.header(req.client_span_id)
    body = _ERROR_BODY.get(status, 120 + eng.rng.randint(0, 300))
    rt = end - start_us + eng.us(0.1, 0.3)
    upstream = seconds(max(up.end_us - up.start_us + 200, 0), 3)
    line = (
        f'{client.addr} - - [{time_local(end)}] "{method} {path} HTTP/1.1" {status} {body} "-" '
        f'"{client.agent}" "{header}" {seconds(max(rt, 0), 3)} {upstream}'
    )
    form = ID_FORM["nginx"] if header != "-" else "none"
    eng.access(
        end, line, ("log", "api-gateway", req.trace_id, gw.span_id, form, req.sampled, req.fault, False)
    )
    return status

"""fulfillment-worker: takes order-created off Kafka in a new trace whose CONSUMER span links to the
producer span (OTLP ``links`` on one host, a Jaeger ``FOLLOWS_FROM`` reference on the other).
"""

from __future__ import annotations

from pipeline.generate.engine.calls import Call, DbError, Statement, db_call, external_call
from pipeline.generate.engine.core import Engine, Req
from pipeline.generate.engine.flows import Outcome
from pipeline.generate.engine.services import Knobs
from pipeline.generate.engine.topology import FULFILLMENT_DB
from pipeline.generate.model import Span

_CARRIER_URL = "https://api.carrier.example/v2/labels"
FK_ERROR = DbError(
    'ERROR: insert or update on table "shipments" violates foreign key constraint '
    '"shipments_warehouse_id_fkey"',
    "psycopg.errors.ForeignKeyViolation",
)


def consume(
    eng: Engine, req: Req, producer: Span, start_us: int, order_id: int, k: Knobs, out: Outcome
) -> None:
    """fulfillment-worker takes order-created off Kafka in a new trace linked to the producer span."""
    partition = int(producer.span_id[-2:], 16) % 6
    host = eng.services["fulfillment-worker"].hosts[partition % len(eng.services["fulfillment-worker"].hosts)]
    span = eng.span(req, None, host, "consumer", "order-created process", "CONSUMER", start_us)
    span.links.append((producer.trace_id, producer.span_id))
    span.attributes.update(
        {
            "messaging.system": "kafka",
            "messaging.destination.name": "order-created",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": "fulfillment",
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.message.key": str(order_id),
        }
    )
    c = Call(eng, req, host, span, "consumer.py:54")
    c.log(
        "INFO", "fulfillment.consumer", f"received order-created for order {order_id} (partition {partition})"
    )
    fail_db = k.kind == "async_error" and k.variant % 2 == 0
    warehouse = str(eng.rng.randint(1, 4) if not fail_db else 9)
    stmt = Statement(
        FULFILLMENT_DB,
        "INSERT shipments",
        "INSERT INTO shipments (order_id, warehouse_id, state) VALUES ($1, $2, 'new')",
        (str(order_id), warehouse),
    )
    db, _ = db_call(
        c,
        stmt,
        eng.us(0.6, 4.0),
        comment=False,
        route="order-created",
        error=FK_ERROR if fail_db else None,
        fault=req.fault,
    )
    error: str | None = FK_ERROR.message if fail_db else None
    if error is None:
        fail_http = k.kind == "async_error"
        label = external_call(c, "HTTP POST", _CARRIER_URL, eng.us(30, 120), 502 if fail_http else 201)
        if fail_http:
            error, k.root = "carrier answered 502 Bad Gateway", label
    else:
        k.root = db
    if error is not None:
        c.step(0.05, 0.3)
        span.fail(error, "fulfillment.ProcessingError", c.t)
        stack = (
            "Traceback (most recent call last):",
            '  File "/app/fulfillment/consumer.py", line 71, in handle',
            "    await create_shipment(order)",
            f"fulfillment.ProcessingError: {error}",
        )
        message = f"failed to process order-created for order {order_id}: {error}"
        out.symptom = c.log("ERROR", "fulfillment.consumer", message, stack=stack, keep=True)
        out.message, out.symptom_service = message, host.service
    else:
        c.log("INFO", "fulfillment.consumer", f"label created for order {order_id}")
    c.step(0.05, 0.3)
    span.end_us = c.t

"""Java stack traces for order-service's error records (Spring Boot / logback shapes)."""

from __future__ import annotations

import random

_RESERVE_FRAMES = (
    "\tat org.springframework.web.client.HttpServerErrorException.create(HttpServerErrorException.java:102)",
    "\tat org.springframework.web.client.StatusHandler.lambda$defaultHandler$3(StatusHandler.java:89)",
    "\tat org.springframework.web.client.StatusHandler.handle(StatusHandler.java:146)",
    "\tat org.springframework.web.client.DefaultRestClient$DefaultResponseSpec.applyStatusHandlers"
    "(DefaultRestClient.java:698)",
    "\tat com.example.order.client.InventoryClient.reserve(InventoryClient.java:58)",
    "\tat com.example.order.service.OrderService.placeOrder(OrderService.java:81)",
    "\tat com.example.order.web.OrderController.create(OrderController.java:44)",
    "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke"
    "(DirectMethodHandleAccessor.java:103)",
    "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)",
    "\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke"
    "(InvocableHandlerMethod.java:255)",
)
_TIMEOUT_FRAMES = (
    "\tat org.springframework.web.client.DefaultRestClient.createResourceAccessException"
    "(DefaultRestClient.java:692)",
    "\tat org.springframework.web.client.DefaultRestClient.readWithMessageConverters"
    "(DefaultRestClient.java:216)",
    "\tat com.example.order.client.UserClient.getUser(UserClient.java:41)",
    "\tat com.example.order.service.OrderService.placeOrder(OrderService.java:73)",
)
_TIMEOUT_CAUSE_FRAMES = (
    "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)",
    "\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:314)",
    "\tat java.base/sun.nio.ch.NioSocketImpl.read(NioSocketImpl.java:355)",
)

RESERVE_EXCEPTION = "org.springframework.web.client.HttpServerErrorException$InternalServerError"
TIMEOUT_EXCEPTION = "java.net.SocketTimeoutException"


def reserve_failed(rng: random.Random) -> tuple[str, ...]:
    """Trace of a 500 from inventory-service: 3–12 lines, trimmed like logback's common-frames elision."""
    depth = rng.randint(2, len(_RESERVE_FRAMES))
    head = f'{RESERVE_EXCEPTION}: 500 Internal Server Error: "{{"error":"reserve failed"}}"'
    return (head, *_RESERVE_FRAMES[:depth], f"\t... {rng.randint(80, 95)} common frames omitted")


def read_timed_out(rng: random.Random, url: str) -> tuple[str, ...]:
    """Trace of a read timeout towards user-service, with its ``Caused by:`` section."""
    depth = rng.randint(1, len(_TIMEOUT_CAUSE_FRAMES))
    return (
        f'org.springframework.web.client.ResourceAccessException: I/O error on GET request for "{url}": '
        "Read timed out",
        *_TIMEOUT_FRAMES,
        f"Caused by: {TIMEOUT_EXCEPTION}: Read timed out",
        *_TIMEOUT_CAUSE_FRAMES[:depth],
        f"\t... {rng.randint(90, 99)} common frames omitted",
    )

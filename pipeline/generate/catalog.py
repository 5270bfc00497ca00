"""Static facts of the simulated shop: products, clients, database statements, connection pools."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sku:
    """A product: its id, the warehouse that stocks it, its price in cents."""

    sku: str
    warehouse: int
    price_cents: int


SKUS: tuple[Sku, ...] = (
    Sku("sku-101", 1, 1990),
    Sku("sku-118", 2, 4500),
    Sku("sku-134", 1, 899),
    Sku("sku-156", 4, 12900),
    Sku("sku-203", 2, 2490),
    Sku("sku-245", 3, 3999),
    Sku("sku-267", 1, 1500),
    Sku("sku-312", 3, 5990),
    Sku("sku-338", 4, 750),
    Sku("sku-371", 2, 21900),
    Sku("sku-402", 1, 3490),
    Sku("sku-456", 3, 1290),
    Sku("sku-489", 2, 6490),
    Sku("sku-517", 4, 2990),
    Sku("sku-560", 1, 9990),
    Sku("sku-634", 3, 1790),
    Sku("sku-702", 2, 4990),
    Sku("sku-789", 3, 5990),
    Sku("sku-856", 1, 2290),
    Sku("sku-921", 4, 15900),
)
SKU_BY_ID: dict[str, Sku] = {s.sku: s for s in SKUS}
LOCKED_WAREHOUSE = 3  # the restock job's warehouse (fault db_lock_wait)

USER_AGENTS: tuple[str, ...] = (
    "checkout-web/4.2 (Android 14)",
    "checkout-web/4.2 (iOS 17.6)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
)
CURL_AGENT = "curl/8.5.0"  # support staff looking up orders: no traceparent
HEALTH_AGENT = "ELB-HealthChecker/2.0"
HEALTH_ADDR = "10.0.0.2"
# The load balancer's addresses as nginx sees them.
CLIENT_ADDRS: tuple[str, ...] = tuple(f"10.0.3.{n}" for n in (11, 12, 14, 17, 19, 23, 26, 31))

USER_SELECT = "SELECT u.id, u.email, a.city FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.id = ?"
RESERVE_UPDATE = "UPDATE inventory SET reserved = reserved + ? WHERE sku = ? AND reserved + ? <= on_hand"
STOCK_SELECT = "SELECT on_hand, reserved FROM inventory WHERE sku = ?"
RESTOCK_UPDATE = f"UPDATE inventory SET on_hand = on_hand + 40 WHERE warehouse_id = {LOCKED_WAREHOUSE}"
DEADLOCK_ERROR = "Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"
GO_MYSQL_ERROR_TYPE = "*mysql.MySQLError"

INVENTORY_DB_IP = "10.0.4.21"  # inventory-service as the MySQL server sees it
RESTOCK_IP = "10.0.9.5"
RESTOCK_THREAD = 9021
# Two pools in inventory-service: "primary" goes through the sqlcommenter middleware, "batch" does not.
POOL_THREADS: dict[str, tuple[int, ...]] = {
    "primary": tuple(range(4711, 4719)),
    "batch": tuple(range(4802, 4806)),
}
SQLCOMMENTER_PREFIX = "db_driver='go-sql-driver%2Fmysql',route='%2Finventory%2Freserve'"
SLOW_LOG_THRESHOLD_US = 50_000  # long_query_time=0.05
USER_CLIENT_TIMEOUT_US = 1_000_000  # order-service's read timeout towards user-service


def literal_update(sku: str, qty: int) -> str:
    """The reserve UPDATE as MySQL logs it: with the bound values in place of ``?``."""
    return RESERVE_UPDATE.replace("?", str(qty), 1).replace("?", f"'{sku}'", 1).replace("?", str(qty), 1)


def literal_stock_select(sku: str) -> str:
    """The stock-check SELECT with its bound value."""
    return f"SELECT on_hand, reserved FROM inventory WHERE sku = '{sku}'"


def sqlcommenter(traceparent: str) -> str:
    """The sqlcommenter comment (keys sorted, values URL-encoded, as the middleware writes it)."""
    return f"/*{SQLCOMMENTER_PREFIX},traceparent='{traceparent}'*/"

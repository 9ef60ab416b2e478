#!/usr/bin/env python3
"""Generate logwarden's bundled sample logs (samples/) and tests/fixtures/planted.txt.

Python 3.11+, standard library only, fully deterministic: fixed timestamps, ids derived
from SHA-256 of fixed seeds, gzip with mtime=0. Running it twice gives identical bytes.

Every file in samples/ (except samples/local/) is a CloudWatch Logs subscription event
exactly as Lambda receives it: {"awslogs":{"data":"<base64(gzip(json))>"}}.

Everything here is fake: account 123456789012, documentation IP ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24) for outside addresses, 10.0.0.0/8 inside. The planted
secrets are syntactically valid (checksums, Luhn, mod-97 ...) but belong to nobody.

Usage: python3 scripts/make_samples.py            (writes, then decode-checks everything)
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import hashlib
import hmac
import json
import math
import re
import sys
import uuid
import zlib
from collections import defaultdict
from pathlib import Path

# --------------------------------------------------------------------------------------
# Planted secrets / PII. Tests read tests/fixtures/planted.txt (written from this list)
# and assert that none of these strings ever appears in logwarden's output.
# Composite values (URL with password, PEM, Basic auth) are listed whole where they fit
# on one line and also by their secret part.
# --------------------------------------------------------------------------------------
STRIPE_LIVE_KEY = "sk_live_BIyaPisCRbZ7UxJbe1Jcumdn4qNik1hfWf"
CARD_NUMBER = "4111 1111 1111 1111"
EMAIL = "maria.keller84@mailbox.org"
SSN = "536-22-1847"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1LTEwNDIiLCJpc3MiOiJodHRwczovL2F1dGgub3JkZXJzLmV4YW1wbGUuY29tIiwiYXVkIjoib3JkZXJz"
    "LWFwaSIsInNjb3BlIjoib3JkZXJzOnJlYWQgb3JkZXJzOndyaXRlIiwiaWF0IjoxNzk1NjAwODAwLCJleHAiOjE3OTU2MDQ0MDB9."
    "QvgdK70iWudFLMCS6O7FNtZatd20z_sFCVAxksG8XmI"
)
GITHUB_PAT = "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"  # last 6 chars: base62(crc32(body))
POSTGRES_PASSWORD = "S3cr3t-Pa55w0rd!"
POSTGRES_URL = f"postgres://billing:{POSTGRES_PASSWORD}@db.internal:5432/billing"
AWS_ACCESS_KEY_ID = "AKIABZPUZDIKM2W2IPRI"  # base32 body encodes account 123456789012
AWS_SECRET_ACCESS_KEY = "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"
SLACK_WEBHOOK = "https://hooks.slack.com/services/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"
SENDGRID_KEY = "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"
EC_KEY_BODY = [  # DER-shaped SEC1 P-256 key, fake scalar and fake point
    "MHcCAQEEIFjiEB9BwWZkI8LV6XINwv6OVame3YEDjdf/ucvi4JTooAoGCCqGSM49",
    "AwEHoUQDQgAELXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIGh/OQ2OFT/",
    "iIz/S454ddYAwmgjkEEqjPebN9CxEUiw+g==",
]
EC_PRIVATE_KEY_PEM = "\n".join(
    ["-----BEGIN EC PRIVATE KEY-----", *EC_KEY_BODY, "-----END EC PRIVATE KEY-----"]
)
IBAN = "DE89 3704 0044 0532 0130 00"
OPENAI_KEY = (
    "sk-proj-Uwfifs2gH1Odr1sXEx0QgOFCnK-xLkduqG5YDMVphj7-TXLPMCzYKVtYsWtTxCfDHZS4MxGkhC"
    "T3BlbkFJ8pOAsZTanlx5iYFJOiQVNIE-dl1OwkrDWA3T0T3KnjRKKBYshGKWsFsrkUYBIcb2xLwqllqMID"
)
BASIC_CREDENTIALS = "svc-reporting:Winter2026!Reports"
BASIC_AUTH_B64 = "c3ZjLXJlcG9ydGluZzpXaW50ZXIyMDI2IVJlcG9ydHM="

PLANTED_SECRETS = [
    STRIPE_LIVE_KEY,
    CARD_NUMBER,
    EMAIL,
    SSN,
    JWT,
    GITHUB_PAT,
    POSTGRES_URL,
    POSTGRES_PASSWORD,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    SLACK_WEBHOOK,
    SENDGRID_KEY,
    *EC_KEY_BODY,
    IBAN,
    OPENAI_KEY,
    BASIC_AUTH_B64,
    BASIC_CREDENTIALS,  # never written to a log; guards against output that decodes Basic auth
]

# Where each planted value must be found (file relative to samples/). BASIC_CREDENTIALS only
# exists base64-encoded, so it is expected nowhere in plain form.
PLANTED_WHERE = {
    STRIPE_LIVE_KEY: "api-powertools.json",
    CARD_NUMBER: "api-powertools.json",
    EMAIL: "api-powertools.json",
    SSN: "api-powertools.json",
    JWT: "api-powertools.json",
    GITHUB_PAT: "node-worker.json",
    POSTGRES_URL: "node-worker.json",
    POSTGRES_PASSWORD: "node-worker.json",
    AWS_ACCESS_KEY_ID: "node-worker.json",
    AWS_SECRET_ACCESS_KEY: "node-worker.json",
    SLACK_WEBHOOK: "node-worker.json",
    SENDGRID_KEY: "node-worker-json-logs.json",
    EC_KEY_BODY[0]: "python-etl.json",
    EC_KEY_BODY[1]: "python-etl.json",
    EC_KEY_BODY[2]: "python-etl.json",
    IBAN: "python-etl.json",
    OPENAI_KEY: "local/app.log",
    BASIC_AUTH_B64: "local/events.jsonl",
    BASIC_CREDENTIALS: None,
}

# Must appear (as a negative: AWS's documentation key, it must NOT alert).
AWS_DOC_EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PLANTED_FILE = ROOT / "tests" / "fixtures" / "planted.txt"

ACCOUNT = "123456789012"
REGION = "us-east-1"
BASE = dt.datetime(2026, 11, 25, 10, 0, 0, tzinfo=dt.timezone.utc)
BASE_MS = int(BASE.timestamp() * 1000)  # 1795600800000

# --------------------------------------------------------------------------------------
# deterministic helpers
# --------------------------------------------------------------------------------------


def _h(*parts) -> bytes:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()


def hexs(n: int, *parts) -> str:
    out, i = "", 0
    while len(out) < n:
        out += _h(i, *parts).hex()
        i += 1
    return out[:n]


def chars(n: int, alphabet: str, *parts) -> str:
    out, i = "", 0
    limit = 256 - 256 % len(alphabet)
    while len(out) < n:
        for b in _h("chars", i, *parts):
            if b < limit:
                out += alphabet[b % len(alphabet)]
        i += 1
    return out[:n]


B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def uuid4(*parts) -> str:
    b = bytearray(_h("uuid", *parts)[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


def t(sec: float) -> int:
    """epoch ms for BASE + sec seconds"""
    return BASE_MS + int(round(sec * 1000))


def _dt(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)


def iso_ms(ms: int) -> str:
    return _dt(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_s(ms: int) -> str:
    assert ms % 1000 == 0, ms
    return _dt(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def powertools_ts(ms: int) -> str:
    # aws-lambda-powertools (Python) default: "%Y-%m-%d %H:%M:%S,%F%z"
    return _dt(ms).strftime("%Y-%m-%d %H:%M:%S,") + f"{ms % 1000:03d}+0000"


def clf_ts(ms: int) -> str:
    assert ms % 1000 == 0, ms
    return _dt(ms).strftime("%d/%b/%Y:%H:%M:%S +0000")


def cj(obj) -> str:
    """compact JSON, as most loggers and AWS services write it"""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def event_id(ts: int, file_no: int, idx: int) -> str:
    """56-digit CloudWatch Logs event id: timestamp, file number, index, hash digits"""
    tail = str(int.from_bytes(_h("event-id", file_no, idx, ts), "big"))[-36:].rjust(36, "0")
    eid = f"{ts:013d}{file_no:02d}{idx:05d}{tail}"
    assert len(eid) == 56 and eid.isdigit()
    return eid


def stream_hex(name: str) -> str:
    return hexs(32, "stream", name)


def xray_trace_id(ms: int, *seed) -> str:
    return f"1-{ms // 1000:08x}-{hexs(24, 'xray', *seed)}"


# --------------------------------------------------------------------------------------
# subscription envelope
# --------------------------------------------------------------------------------------
FILE_NUMBERS = {}


def subscription_payload(file_name, log_group, log_stream, events, filters=("logwarden",)):
    file_no = FILE_NUMBERS.setdefault(file_name, len(FILE_NUMBERS) + 1)
    events = sorted(events, key=lambda e: e[0])  # stable: ties keep insertion order
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": list(filters),
        "logEvents": [
            {"id": event_id(ts, file_no, i), "timestamp": ts, "message": msg}
            for i, (ts, msg) in enumerate(events)
        ],
    }


def lambda_event(payload: dict) -> str:
    raw = cj(payload).encode()
    data = base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")
    return json.dumps({"awslogs": {"data": data}}, indent=2) + "\n"


# --------------------------------------------------------------------------------------
# Lambda text-format helpers
# --------------------------------------------------------------------------------------
class LambdaLog:
    """Collects the log events of one Lambda log stream (text log format)."""

    def __init__(self, function, memory_mb, runtime_version, runtime_arn_seed, tracing=False):
        self.function = function
        self.memory = memory_mb
        self.runtime_version = runtime_version
        self.runtime_arn = (
            f"arn:aws:lambda:{REGION}::runtime:{hexs(64, 'runtime', runtime_arn_seed)}"
        )
        self.tracing = tracing
        self.events: list[tuple[int, str]] = []
        self.cold = False
        self.init_ms = 0.0

    def add(self, ts: int, msg: str):
        self.events.append((ts, msg))

    def init_start(self, ts: int, init_ms: float):
        self.add(ts, f"INIT_START Runtime Version: {self.runtime_version}\t"
                     f"Runtime Version ARN: {self.runtime_arn}\n")
        self.cold = True
        self.init_ms = init_ms

    def invoke(self, start: int, seed, duration_ms: float, max_mem: int, status=None,
               error_type=None):
        """Returns an Invocation; call .done() to close it with END/REPORT."""
        return Invocation(self, start, seed, duration_ms, max_mem, status, error_type)


class Invocation:
    def __init__(self, log, start, seed, duration_ms, max_mem, status, error_type):
        self.log = log
        self.start = start
        self.req = uuid4("req", log.function, seed)
        self.trace = xray_trace_id(start, log.function, seed)
        self.segment = hexs(16, "segment", log.function, seed)
        self.duration = duration_ms
        self.max_mem = max_mem
        self.status = status
        self.error_type = error_type
        self.cold = log.cold
        self.init_ms = log.init_ms
        log.cold = False
        log.add(start, f"START RequestId: {self.req} Version: $LATEST\n")

    def at(self, offset_ms: float) -> int:
        return self.start + int(round(offset_ms))

    def end_ts(self) -> int:
        return self.start + math.ceil(self.duration)

    def done(self, after_report: str | None = None):
        end = self.end_ts()
        log = self.log
        log.add(end, f"END RequestId: {self.req}\n")
        billed = math.ceil(self.duration)
        if self.status == "timeout":
            billed = int(self.duration)
        parts = [
            f"REPORT RequestId: {self.req}",
            f"Duration: {self.duration:.2f} ms",
            f"Billed Duration: {billed} ms",
            f"Memory Size: {log.memory} MB",
            f"Max Memory Used: {self.max_mem} MB",
        ]
        if self.cold:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status:
            parts.append(f"Status: {self.status}")
        if self.error_type:
            parts.append(f"Error Type: {self.error_type}")
        report = "\t".join(parts) + "\t\n"
        if log.tracing:
            report += f"XRAY TraceId: {self.trace}\tSegmentId: {self.segment}\tSampled: true\t\n"
        log.add(end, report)
        if after_report:
            log.add(end, after_report)


# --------------------------------------------------------------------------------------
# 1. api-powertools.json — Python + Powertools, /aws/lambda/orders-api
# --------------------------------------------------------------------------------------
ORDERS_FN = "orders-api"
ORDERS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ORDERS_FN}"
UA_BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
UA_MOBILE = "OrdersApp/5.12.0 (iPhone; iOS 18.1; Scale/3.00)"


def security_event(ms, typ, severity, details):
    return {"timestamp": iso_ms(ms), "eventType": "security", "type": typ,
            "severity": severity, "details": details}


def make_api_powertools():
    log = LambdaLog(ORDERS_FN, 512, "python:3.12.v48", "python3.12", tracing=True)

    def pt(inv, offset_ms, level, location, message, **extra):
        ms = inv.at(offset_ms)
        rec = {
            "level": level,
            "location": location,
            "message": message,
            "timestamp": powertools_ts(ms),
            "service": ORDERS_FN,
            "cold_start": inv.cold,
            "function_name": ORDERS_FN,
            "function_memory_size": 512,
            "function_arn": ORDERS_ARN,
            "function_request_id": inv.req,
            "xray_trace_id": inv.trace,
        }
        rec.update(extra)
        log.add(ms, cj(rec) + "\n")
        return ms

    def sec_powertools(inv, offset_ms, level, location, typ, severity, details):
        ms = inv.at(offset_ms)
        pt(inv, offset_ms, level, location, security_event(ms, typ, severity, details))

    def sec_raw(inv, offset_ms, typ, severity, details):
        ms = inv.at(offset_ms)
        log.add(ms, cj(security_event(ms, typ, severity, details)) + "\n")

    n = 0

    def normal(sec, method, path, status, extra_lines=(), dur=None, mem=None):
        nonlocal n
        n += 1
        dur = dur or 38.0 + (n * 7.31) % 60 + max((o for o, _ in extra_lines), default=0)
        inv = log.invoke(t(sec), f"normal-{n}", dur, mem or 96 + n % 9)
        pt(inv, 2, "INFO", "handler:48", f"{method} {path}", http_method=method, path=path,
           correlation_id=uuid4("corr", n))
        for off, fn in extra_lines:
            fn(inv, off)
        pt(inv, inv.duration - 3, "INFO", "handler:71", "request completed",
           status_code=status, path=path, latency_ms=round(inv.duration - 4, 1))
        inv.done()
        return inv

    # cold start at 10:00:00 — planted Stripe live key in the client-config line
    log.init_start(t(0.112), 1184.37)
    inv = log.invoke(t(1.309), "cold", 212.48, 121)
    pt(inv, 4, "INFO", "init_payment_client:31", "Payment client initialised",
       payment_provider="stripe", stripe_api_key=STRIPE_LIVE_KEY, api_version="2024-06-20",
       timeout_s=10)
    pt(inv, 9, "INFO", "handler:48", "GET /v1/orders", http_method="GET", path="/v1/orders",
       correlation_id=uuid4("corr", "cold"))
    pt(inv, 208, "INFO", "handler:71", "request completed", status_code=200,
       path="/v1/orders", latency_ms=203.9)
    inv.done()

    normal(35, "GET", "/v1/orders/ord_5TY2KD", 200)
    normal(62, "POST", "/v1/orders", 201)

    # 192.0.2.44 — 3 failures over 12 minutes (below any threshold)
    low_ip = {"sourceIp": "192.0.2.44", "userAgent": UA_BROWSER, "endpoint": "/v1/auth/login"}
    inv = log.invoke(t(90), "lowip-1", 61.2, 104)
    sec_powertools(inv, 40, "WARNING", "login:112", "authentication_failed", "low",
                   {"reason": "invalid_password", **low_ip, "userId": "u-2001",
                    "requestCount": 1})
    inv.done()

    normal(118, "GET", "/v1/orders", 200)

    # planted JWT in an outgoing-request header dump (DEBUG)
    def jwt_line(inv, off):
        pt(inv, off, "DEBUG", "call_inventory:88",
           "Outgoing request POST https://inventory.internal/v1/reserve headers:\n"
           f"Authorization: Bearer {JWT}\nContent-Type: application/json\n"
           f"X-Request-Id: {uuid4('xreq', 'jwt')}",
           upstream="inventory-service")
    normal(150, "POST", "/v1/orders", 201, extra_lines=[(20, jwt_line)])

    normal(181, "GET", "/v1/orders/ord_7Q2M9X", 200)

    # planted card number in a payment debug line
    def card_line(inv, off):
        pt(inv, off, "DEBUG", "charge_card:142",
           f"payment debug: card={CARD_NUMBER} exp=12/29 amount=129.90 currency=EUR",
           order_id="ord_7Q2M9X", payment_provider="stripe")
    normal(210, "POST", "/v1/orders/ord_7Q2M9X/pay", 200, extra_lines=[(30, card_line)])

    # credential stuffing: 12 failures from 203.0.113.7 within 4 minutes, 8 userIds, inside
    # one aligned 5-minute window (10:05-10:10): correlation windows are tumbling
    stuff_times = [305, 322, 339, 361, 378, 396, 415, 437, 458, 480, 501, 521]
    stuff_users = ["u-1001", "u-1017", "u-1042", "u-1188", "u-1203", "u-1017", "u-1311",
                   "u-1420", "u-1001", "u-1502", "u-1633", "u-1042"]
    reasons = ["invalid_password", "unknown_user", "invalid_password", "invalid_password",
               "unknown_user", "invalid_password", "invalid_password", "unknown_user",
               "account_locked", "invalid_password", "unknown_user", "account_locked"]
    for i, (sec, user, reason) in enumerate(zip(stuff_times, stuff_users, reasons)):
        inv = log.invoke(t(sec), f"stuff-{i}", 44.0 + i * 1.7, 108 + i % 4)
        details = {"reason": reason, "sourceIp": "203.0.113.7",
                   "userAgent": "python-requests/2.32.3", "userId": user,
                   "endpoint": "/v1/auth/login", "requestCount": i + 1}
        if i % 2 == 0:
            sec_powertools(inv, 31, "WARNING", "login:112", "authentication_failed", "medium",
                           details)
        else:
            sec_raw(inv, 31, "authentication_failed", "medium", details)
        pt(inv, inv.duration - 2, "INFO", "handler:71", "request completed",
           status_code=401, path="/v1/auth/login", latency_ms=round(inv.duration - 3, 1))
        inv.done()
        if sec == 339:
            # planted e-mail address between two attempts
            def email_line(inv, off):
                pt(inv, off, "INFO", "send_confirmation:203", "Order confirmation e-mail queued",
                   order_id="ord_7Q2M9X", customer_email=EMAIL, template="order-confirmed-v3")
            normal(350, "POST", "/v1/orders/ord_7Q2M9X/confirm", 200,
                   extra_lines=[(25, email_line)])
        if sec == 437:
            normal(448, "GET", "/v1/orders", 200)

    # critical: SQL injection attempt detected (raw form)
    inv = log.invoke(t(510), "sqli", 22.9, 110)
    sec_raw(inv, 12, "suspicious_activity", "critical",
            {"reason": "SQL injection attempt detected", "sourceIp": "203.0.113.45",
             "userAgent": "sqlmap/1.8.3#stable (https://sqlmap.org)", "userId": "anonymous",
             "endpoint": "/v1/orders/search", "requestCount": 1, "parameter": "q",
             "pattern": "' OR '1'='1' -- "})
    pt(inv, 19, "INFO", "handler:71", "request completed", status_code=400,
       path="/v1/orders/search", latency_ms=18.2)
    inv.done()

    inv = log.invoke(t(550), "lowip-2", 58.7, 111)
    sec_raw(inv, 35, "authentication_failed", "low",
            {"reason": "invalid_password", **low_ip, "userId": "u-2001", "requestCount": 1})
    inv.done()

    # rate_limit_exceeded: 8 for u-1042 within 60 s (mixed forms)
    rl_times = [602, 609, 615, 622, 630, 638, 645, 653]
    for i, sec in enumerate(rl_times):
        inv = log.invoke(t(sec), f"rl-1042-{i}", 9.8 + i * 0.4, 112)
        details = {"reason": "per_user_limit", "sourceIp": "198.51.100.61",
                   "userAgent": "orders-sync/3.4.1 okhttp/4.12.0", "userId": "u-1042",
                   "endpoint": "/v1/orders", "requestCount": 101 + i * 6, "limit": 100,
                   "windowSeconds": 60}
        if i % 2 == 0:
            sec_raw(inv, 5, "rate_limit_exceeded", "low", details)
        else:
            sec_powertools(inv, 5, "WARNING", "rate_limiter:64", "rate_limit_exceeded", "low",
                           details)
        inv.done()

    for i, sec in enumerate([690, 735]):
        inv = log.invoke(t(sec), f"rl-2001-{i}", 11.2, 112)
        sec_powertools(inv, 5, "WARNING", "rate_limiter:64", "rate_limit_exceeded", "low",
                       {"reason": "per_user_limit", "sourceIp": "198.51.100.23",
                        "userAgent": UA_MOBILE, "userId": "u-2001", "endpoint": "/v1/orders",
                        "requestCount": 103 + i, "limit": 100, "windowSeconds": 60})
        inv.done()

    # planted SSN (W-9 intake)
    def ssn_line(inv, off):
        pt(inv, off, "INFO", "store_tax_form:77",
           f"W-9 received, SSN {SSN} stored for payout account pa_0193",
           payout_account="pa_0193", form="W-9")
    normal(704, "POST", "/v1/payouts/pa_0193/tax-form", 202, extra_lines=[(40, ssn_line)])

    # high: cross-tenant access (Powertools form)
    inv = log.invoke(t(760), "idor", 31.5, 114)
    sec_powertools(inv, 18, "ERROR", "authorize_order:58", "suspicious_activity", "high",
                   {"reason": "cross-tenant order access attempt", "sourceIp": "198.51.100.90",
                    "userAgent": UA_BROWSER, "userId": "u-7731",
                    "endpoint": "/v1/orders/ord_8F2K1Q", "requestCount": 14,
                    "tenantId": "t-204", "resourceTenantId": "t-118"})
    pt(inv, 28, "INFO", "handler:71", "request completed", status_code=403,
       path="/v1/orders/ord_8F2K1Q", latency_ms=27.1)
    inv.done()

    # low-severity event logged with Powertools `extra=` (keys merged at the top level)
    inv = log.invoke(t(781), "pwreset", 74.3, 115)
    pt(inv, 52, "INFO", "request_password_reset:57", "password reset requested",
       eventType="security", type="password_reset_requested", severity="low",
       details={"reason": "user_request", "sourceIp": "198.51.100.23", "userAgent": UA_MOBILE,
                "userId": "u-2001", "endpoint": "/v1/auth/password-reset", "requestCount": 1})
    inv.done()

    inv = log.invoke(t(820), "lowip-3", 60.4, 115)
    sec_powertools(inv, 38, "WARNING", "login:112", "authentication_failed", "low",
                   {"reason": "invalid_password", **low_ip, "userId": "u-2001",
                    "requestCount": 1})
    inv.done()

    # an error with a traceback (Powertools logger.exception)
    inv = log.invoke(t(842), "err", 10012.77, 131)
    pt(inv, 10008, "ERROR", "charge_card:151", "Payment provider request failed",
       order_id="ord_9K3L0P", payment_provider="stripe",
       exception="Traceback (most recent call last):\n"
                 "  File \"/var/task/orders/payments.py\", line 147, in charge_card\n"
                 "    resp = session.post(url, json=body, timeout=10)\n"
                 "  File \"/opt/python/requests/sessions.py\", line 637, in post\n"
                 "    return self.request(\"POST\", url, data=data, json=json, **kwargs)\n"
                 "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.stripe.com', "
                 "port=443): Read timed out. (read timeout=10)",
       exception_name="ReadTimeout")
    pt(inv, 10011, "INFO", "handler:71", "request completed", status_code=502,
       path="/v1/orders/ord_9K3L0P/pay", latency_ms=10010.4)
    inv.done()

    normal(871, "GET", "/v1/orders", 200)
    normal(903, "GET", "/v1/orders/ord_5TY2KD", 200)

    stream = f"2026/11/25/[$LATEST]{stream_hex(ORDERS_FN)}"
    return subscription_payload("api-powertools.json", f"/aws/lambda/{ORDERS_FN}", stream,
                                log.events)


# --------------------------------------------------------------------------------------
# 2. node-worker.json — Node.js text format, /aws/lambda/billing-worker
# --------------------------------------------------------------------------------------
def make_node_worker():
    fn = "billing-worker"
    log = LambdaLog(fn, 512, "nodejs:20.v45", "nodejs20.x")

    def line(inv, off, level, msg):
        ms = inv.at(off)
        log.add(ms, f"{iso_ms(ms)}\t{inv.req}\t{level}\t{msg}\n")
        return ms

    n = 0

    def batch(sec, size, extra=(), dur=None):
        nonlocal n
        n += 1
        inv = log.invoke(t(sec), f"batch-{n}", dur or 412.6 + (n * 37.9) % 300, 141 + n % 13)
        line(inv, 3, "INFO", f"Received {size} messages from queue billing-jobs")
        for off, lvl, msg in extra:
            line(inv, off, lvl, msg)
        for k in range(min(size, 2)):
            inv_no = 120 + n * 10 + k
            line(inv, 60 + k * 90, "INFO", cj({
                "msg": "invoice generated", "invoiceId": f"inv_2026_{inv_no:06d}",
                "customerId": f"c-{5500 + inv_no % 97}", "amountCents": 1290 + inv_no * 37,
                "currency": "EUR", "pdfKey": f"invoices/2026/11/inv_2026_{inv_no:06d}.pdf"}))
        line(inv, inv.duration - 4, "INFO", cj({"msg": "batch done", "processed": size,
                                                 "failed": 0}))
        inv.done()
        return inv

    log.init_start(t(1.020), 287.14)
    inv = log.invoke(t(1.410), "cold", 655.3, 168)
    line(inv, 2, "INFO", "billing-worker 4.2.0 starting (node v20.18.0)")
    line(inv, 9, "INFO", cj({"msg": "S3 client configured", "endpoint": "http://localstack:4566",
                             "region": REGION, "accessKeyId": AWS_DOC_EXAMPLE_KEY,
                             "note": "integration stub credentials from AWS docs"}))
    line(inv, 14, "INFO", "Received 5 messages from queue billing-jobs")
    line(inv, 380, "INFO", cj({"msg": "invoice generated", "invoiceId": "inv_2026_000101",
                               "customerId": "c-5521", "amountCents": 12990,
                               "currency": "EUR"}))
    line(inv, 650, "INFO", cj({"msg": "batch done", "processed": 5, "failed": 0}))
    inv.done()

    # planted GitHub classic token in a config dump
    batch(80, 3, extra=[(20, "INFO", cj({
        "msg": "templates config loaded", "repo": "acme-corp/billing-templates",
        "ref": "main", "token": GITHUB_PAT}))])

    # planted Slack webhook
    batch(160, 4, extra=[
        (25, "WARN", "Stripe API latency 2841 ms above threshold 2000 ms"),
        (300, "INFO", f"Posting billing summary to {SLACK_WEBHOOK}"),
    ])

    # planted postgres URL with password, then an Invoke Error
    inv = log.invoke(t(240), "dbfail", 5032.18, 152)
    line(inv, 4, "INFO", "Received 2 messages from queue billing-jobs")
    line(inv, 5011, "ERROR",
         f"Database connection failed: connect ETIMEDOUT 10.0.12.40:5432 (url={POSTGRES_URL})")
    line(inv, 5028, "ERROR", "Invoke Error \t" + cj({
        "errorType": "Error", "errorMessage": "connect ETIMEDOUT 10.0.12.40:5432",
        "code": "ETIMEDOUT", "errno": -110, "syscall": "connect", "address": "10.0.12.40",
        "port": 5432,
        "stack": ["Error: connect ETIMEDOUT 10.0.12.40:5432",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"]}))
    inv.done()

    # planted AWS access key id + secret access key (a credentials file printed to the log)
    inv = log.invoke(t(330), "creds", 188.4, 150)
    line(inv, 6, "WARN", "No role credentials for legacy SFTP exporter, writing "
                         "~/.aws/credentials from env:\n[default]\n"
                         f"aws_access_key_id={AWS_ACCESS_KEY_ID}\n"
                         f"aws_secret_access_key={AWS_SECRET_ACCESS_KEY}\n"
                         f"region={REGION}")
    line(inv, 181, "INFO", "SFTP export finished: 14 files, 2.1 MB")
    inv.done()

    batch(390, 6)
    batch(480, 2, extra=[(40, "WARN", cj({"msg": "retrying invoice render", "attempt": 2,
                                           "invoiceId": "inv_2026_000117"}))])
    batch(545, 5)

    # Lambda timeouts: 3 within 5 minutes
    timeout_starts = [600.5, 730.0, 845.0]
    for i, sec in enumerate(timeout_starts):
        if i > 0:
            log.init_start(t(sec - 0.6), 301.55 + i * 4.1)
        inv = log.invoke(t(sec), f"timeout-{i}", 30000.0, 388 + i * 11, status="timeout")
        line(inv, 3, "INFO", "Received 10 messages from queue billing-jobs")
        line(inv, 920, "INFO", cj({"msg": "rendering statement PDF", "statementId":
                                   f"st_2026_11_{400 + i}", "pages": 212 + i * 37}))
        inv.duration = 30000.0
        end = inv.start + 30030
        # END/REPORT come first, then the runtime's timeout line (same millisecond)
        log.add(end, f"END RequestId: {inv.req}\n")
        log.add(end, "\t".join([
            f"REPORT RequestId: {inv.req}", "Duration: 30000.00 ms",
            "Billed Duration: 30000 ms", f"Memory Size: {log.memory} MB",
            f"Max Memory Used: {inv.max_mem} MB"]
            + ([f"Init Duration: {inv.init_ms:.2f} ms"] if inv.cold else [])
            + ["Status: timeout"]) + "\t\n")
        log.add(end, f"{iso_ms(end)} {inv.req} Task timed out after 30.03 seconds\n")

    log.init_start(t(905.3), 296.02)
    batch(906, 3)

    # runtime crash (OOM kill)
    inv = log.invoke(t(1040), "crash", 4526.31, 512, status="error",
                     error_type="Runtime.ExitError")
    line(inv, 3, "INFO", "Received 10 messages from queue billing-jobs")
    line(inv, 3120, "WARN", cj({"msg": "memory pressure", "rssMB": 497, "heapUsedMB": 471,
                                "heapLimitMB": 480}))
    log.add(inv.at(4525), f"RequestId: {inv.req} Error: Runtime exited with error: "
                          "signal: killed\nRuntime.ExitError\n")
    inv.done()

    log.init_start(t(1100.2), 312.77)
    batch(1101, 4)
    batch(1150, 1)
    batch(1190, 3)

    stream = f"2026/11/25/[$LATEST]{stream_hex(fn)}"
    return subscription_payload("node-worker.json", f"/aws/lambda/{fn}", stream, log.events)


# --------------------------------------------------------------------------------------
# 3a. node-worker-json-logs.json — Lambda JSON log format, /aws/lambda/notifications-worker
# --------------------------------------------------------------------------------------
def make_node_json_logs():
    fn = "notifications-worker"
    mem = 256
    events = []
    runtime_arn = f"arn:aws:lambda:{REGION}::runtime:{hexs(64, 'runtime', 'nodejs22.x')}"

    def platform(ms, typ, record):
        events.append((ms, cj({"time": iso_ms(ms), "type": typ, "record": record})))

    def app(ms, level, req, message):
        events.append((ms, cj({"timestamp": iso_ms(ms), "level": level, "requestId": req,
                               "message": message})))

    def init(sec, dur):
        s = t(sec)
        platform(s, "platform.initStart", {
            "initializationType": "on-demand", "phase": "init",
            "runtimeVersion": "nodejs:22.v31", "runtimeVersionArn": runtime_arn,
            "functionName": fn, "functionVersion": "$LATEST"})
        platform(s + int(dur) - 1, "platform.initRuntimeDone", {
            "initializationType": "on-demand", "phase": "init", "status": "success"})
        platform(s + int(dur), "platform.initReport", {
            "initializationType": "on-demand", "phase": "init", "status": "success",
            "metrics": {"durationMs": dur}})
        return dur

    def invoke(sec, seed, dur, max_mem, lines, status="success", init_ms=None):
        req = uuid4("req", fn, seed)
        s = t(sec)
        platform(s, "platform.start", {"requestId": req, "version": "$LATEST"})
        for off, level, msg in lines:
            app(s + off, level, req, msg)
        end = s + math.ceil(dur)
        done = {"requestId": req, "status": status,
                "metrics": {"durationMs": dur, "producedBytes": 0 if status != "success" else 48}}
        if status == "success":
            done["spans"] = [
                {"name": "responseLatency", "start": iso_ms(end - 1), "durationMs": 0.412},
                {"name": "responseDuration", "start": iso_ms(end), "durationMs": 0.061}]
        platform(end, "platform.runtimeDone", done)
        metrics = {"durationMs": dur,
                   "billedDurationMs": math.ceil(dur) if status != "timeout" else int(dur),
                   "memorySizeMB": mem, "maxMemoryUsedMB": max_mem}
        if init_ms is not None:
            metrics["initDurationMs"] = init_ms
        platform(end, "platform.report", {"requestId": req, "metrics": metrics,
                                           "status": status})

    init_ms = init(1200.0, 241.87)
    invoke(1200.5, "cold", 184.22, 92, [
        (2, "INFO", "notifications-worker 2.7.1 ready"),
        # planted SendGrid key inside an object message
        (5, "INFO", {"msg": "mail provider configured", "provider": "sendgrid",
                     "apiKey": SENDGRID_KEY, "from": "no-reply@notifications.internal"}),
        (90, "INFO", {"msg": "notification sent", "channel": "email",
                      "template": "invoice-ready", "notificationId": "ntf_01J9Z3"}),
    ], init_ms=init_ms)
    for i, sec in enumerate([1231, 1262, 1300, 1333, 1371]):
        invoke(sec, f"n-{i}", 61.4 + i * 9.3, 94 + i, [
            (3, "INFO", f"processing {2 + i % 3} SQS records"),
            (40, "INFO", {"msg": "notification sent", "channel": "sms" if i % 2 else "email",
                          "template": "payment-received", "notificationId": f"ntf_01J9Z{4 + i}"}),
        ])
    invoke(1402, "warn", 812.9, 101, [
        (3, "INFO", "processing 1 SQS records"),
        (790, "WARN", {"msg": "provider responded 429, backing off", "retryAfterMs": 750}),
    ])
    # the timeout (function timeout 15 s)
    invoke(1440, "timeout", 15000.0, 143, [
        (3, "INFO", "processing 10 SQS records"),
        (2210, "WARN", "smtp relay slow: 2.2 s for first message"),
    ], status="timeout")
    init_ms = init(1466.0, 236.40)
    invoke(1466.4, "after-timeout", 201.7, 93, [
        (2, "INFO", "notifications-worker 2.7.1 ready"),
        (3, "INFO", "processing 10 SQS records"),
    ], init_ms=init_ms)
    invoke(1498, "err", 36.2, 95, [
        (3, "INFO", "processing 1 SQS records"),
        (33, "ERROR", {"errorType": "ValidationError",
                       "errorMessage": "template 'refund-issued-v2' not found",
                       "stackTrace": ["ValidationError: template 'refund-issued-v2' not found",
                                      "    at render (/var/task/index.mjs:88:11)"]}),
    ], status="error")
    for i, sec in enumerate([1530, 1565, 1590]):
        invoke(sec, f"m-{i}", 55.0 + i * 3.3, 96, [
            (3, "INFO", "processing 2 SQS records"),
            (30, "DEBUG", {"msg": "rendered template", "template": "invoice-ready",
                           "bytes": 18211 + i * 97}),
        ])

    stream = f"2026/11/25/[$LATEST]{stream_hex(fn)}"
    return subscription_payload("node-worker-json-logs.json", f"/aws/lambda/{fn}", stream,
                                events)


# --------------------------------------------------------------------------------------
# 3b. python-etl.json — Python runtime text format, /aws/lambda/etl-python
# --------------------------------------------------------------------------------------
def make_python_etl():
    fn = "etl-python"
    log = LambdaLog(fn, 1024, "python:3.12.v48", "python3.12")

    def line(inv, off, level, msg):
        ms = inv.at(off)
        log.add(ms, f"[{level}]\t{iso_ms(ms)}\t{inv.req}\t{msg}\n")

    log.init_start(t(1800.05), 702.31)
    inv = log.invoke(t(1800.81), "cold", 8421.56, 388)
    line(inv, 3, "INFO", "ETL run started: source=s3://etl-raw-123456789012/exports/2026-11-25/ "
                         "target=orders_dw.fact_payments")
    line(inv, 41, "DEBUG", f"Loaded SFTP private key for partner drop:\n{EC_PRIVATE_KEY_PEM}")
    line(inv, 1250, "INFO", "Read 48211 rows from payments-2026-11-25.csv.gz")
    line(inv, 4410, "WARNING", "Dropped 3 rows with invalid currency code")
    line(inv, 6120, "INFO", f"Payout batch pb_0412: beneficiary IBAN {IBAN} amount 1520.00 EUR")
    line(inv, 8400, "INFO", "Loaded 48208 rows into orders_dw.fact_payments in 7.1 s")
    inv.done()

    for i, sec in enumerate([1890, 1950, 2010, 2070]):
        inv = log.invoke(t(sec), f"run-{i}", 3211.4 + i * 211.7, 402 + i * 6)
        line(inv, 4, "INFO", f"ETL run started: source=s3://etl-raw-123456789012/exports/"
                             f"2026-11-25/part-{i:04d}.csv.gz target=orders_dw.fact_orders")
        line(inv, 1300 + i * 40, "INFO", f"Read {12000 + i * 733} rows")
        if i == 2:
            line(inv, 2100, "WARNING", "Schema drift: column 'discount_code' is new, "
                                       "adding as VARCHAR(64)")
        line(inv, inv.duration - 5, "INFO", f"Loaded {12000 + i * 733} rows into "
                                            "orders_dw.fact_orders")
        inv.done()

    inv = log.invoke(t(2130), "fail", 611.82, 399)
    line(inv, 4, "INFO", "ETL run started: source=s3://etl-raw-123456789012/exports/2026-11-25/"
                         "refunds.csv.gz target=orders_dw.fact_refunds")
    ms = inv.at(608)
    log.add(ms, f"[ERROR] KeyError: 'refund_amount'\nTraceback (most recent call last):\n"
                f"  File \"/var/task/etl/handler.py\", line 64, in lambda_handler\n"
                f"    total += row['refund_amount']\n")
    inv.done()

    for i, sec in enumerate([2190, 2250, 2310]):
        inv = log.invoke(t(sec), f"tail-{i}", 2877.0 + i * 95.3, 410)
        line(inv, 4, "INFO", f"ETL run started: source=s3://etl-raw-123456789012/exports/"
                             f"2026-11-25/part-{i + 4:04d}.csv.gz target=orders_dw.fact_orders")
        line(inv, inv.duration - 5, "INFO", f"Loaded {9100 + i * 57} rows into "
                                            "orders_dw.fact_orders")
        inv.done()

    stream = f"2026/11/25/[$LATEST]{stream_hex(fn)}"
    return subscription_payload("python-etl.json", f"/aws/lambda/{fn}", stream, log.events)


# --------------------------------------------------------------------------------------
# 4. cloudtrail.json — aws-cloudtrail-logs-123456789012
# --------------------------------------------------------------------------------------
def akid(prefix: str, seed: str) -> str:
    """AWS-style key id whose base32 body encodes ACCOUNT (as real key ids do)."""
    rnd = _h("akid", seed)
    first = ((int(ACCOUNT) << 7) | (rnd[0] & 0x7F)).to_bytes(6, "big")
    key = prefix + base64.b32encode(first + rnd[1:5]).decode()
    assert len(key) == 20 and "EXAMPLE" not in key
    return key


def principal_id(prefix: str, seed: str) -> str:
    return prefix + chars(17, B32, "principal", seed)


SESSION_UA_CONSOLE = "AWS Internal"
UA_CLI = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1019-aws md/arch#x86_64 "
          "lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
          "md/distrib#ubuntu.24 md/prompt#off md/command#{cmd}")
UA_TF = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) "
         "terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
         "aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 "
         "api/{api}")
UA_BOTO = ("Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 "
           "md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
           "cfg/retry-mode#legacy Botocore/1.35.54")
UA_SDK_JS = ("aws-sdk-js/3.687.0 ua/2.1 os/linux#5.10.227-239.884.amzn2.x86_64 lang/js "
             "md/nodejs#20.18.0 api/{api} exec-env/AWS_Lambda_nodejs20.x")


def ident_assumed(role, session, key_seed, created_ms, mfa=False, source_identity=None):
    rid = principal_id("AROA", role)
    ident = {
        "type": "AssumedRole",
        "principalId": f"{rid}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": akid("ASIA", key_seed),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": rid,
                              "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                              "accountId": ACCOUNT, "userName": role},
            "attributes": {"creationDate": iso_s(created_ms),
                           "mfaAuthenticated": "true" if mfa else "false"},
        },
    }
    if source_identity:
        ident["sessionContext"]["sourceIdentity"] = source_identity
    return ident


def ident_user(user, key=None, console=False, created_ms=None):
    ident = {"type": "IAMUser", "principalId": principal_id("AIDA", user),
             "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "accountId": ACCOUNT}
    if key is not None:
        ident["accessKeyId"] = key
    ident["userName"] = user
    if console:
        ident["sessionContext"] = {"attributes": {"creationDate": iso_s(created_ms),
                                                  "mfaAuthenticated": "false"}}
    return ident


def ident_root(key=None, invoked_by=None, created_ms=None):
    ident = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
             "accountId": ACCOUNT}
    if key is not None:
        ident["accessKeyId"] = key
    if created_ms is not None:
        ident["sessionContext"] = {"attributes": {"creationDate": iso_s(created_ms),
                                                  "mfaAuthenticated": "false"}}
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def ident_service(service):
    return {"type": "AWSService", "invokedBy": service}


def ct_record(ms, ident, source, name, *, ip, ua, req=None, resp=None, error=None,
              read_only=None, event_type="AwsApiCall", additional=None, resources=None,
              request_id=None, host=None, console=False, category="Management",
              service_event=None, tls=True, vpce=None, region=REGION, seed=None):
    seed = seed or f"{ms}-{name}"
    rec = {"eventVersion": "1.10" if event_type == "AwsApiCall" else "1.09",
           "userIdentity": ident, "eventTime": iso_s(ms), "eventSource": source,
           "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua}
    if error:  # (code, message); failed ConsoleLogin records have a message but no code
        code, message = error
        if code is not None:
            rec["errorCode"] = code
        rec["errorMessage"] = message
    rec["requestParameters"] = req
    rec["responseElements"] = resp
    if additional is not None:
        rec["additionalEventData"] = additional
    if event_type != "AwsConsoleSignIn" and request_id is not False:
        rec["requestID"] = request_id or uuid4("ct-req", seed)
    rec["eventID"] = uuid4("ct-evt", seed)
    if read_only is not None:
        rec["readOnly"] = read_only
    if resources:
        rec["resources"] = resources
    rec["eventType"] = event_type
    rec["managementEvent"] = category == "Management"
    rec["recipientAccountId"] = ACCOUNT
    if vpce:
        rec["vpcEndpointId"] = vpce
        rec["vpcEndpointAccountId"] = ACCOUNT
    if service_event:
        rec["serviceEventDetails"] = service_event
    rec["eventCategory"] = category
    if tls:
        rec["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                             "clientProvidedHostHeader": host or source}
    if console:
        rec["sessionCredentialFromConsole"] = "true"
    return ms, rec


def s3_additional(seed, auth="AuthHeader"):
    return {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0, "AuthenticationMethod": auth,
            "x-amz-id-2": base64.b64encode(_h("amzid2", seed) + _h("amzid2b", seed)[:24]).decode(),
            "bytesTransferredOut": 0}


def make_cloudtrail():
    R = []  # (ms, record)
    created = t(-3600)
    lambda_role = lambda: ident_assumed("orders-api-role", ORDERS_FN, "orders-api-session",
                                        t(-1800))
    ops = lambda: ident_assumed("AWSReservedSSO_AdministratorAccess_4f9c2a1b7d3e8f60", "jdoe",
                                "sso-jdoe", created, mfa=False)
    ci_user_key = akid("AKIA", "ct-iam-user")  # long-term key of IAM user ci-deployer
    bucket = f"orders-exports-{ACCOUNT}"
    ops_ip = "198.51.100.10"

    def ec2_resp(seed, **extra):
        return {"requestId": uuid4("ec2-req", seed), **extra}

    # ---- normal, read-only traffic ------------------------------------------------------
    R.append(ct_record(t(12), ops(), "ec2.amazonaws.com", "DescribeInstances", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="ec2.us-east-1.amazonaws.com", console=True,
                       req={"instancesSet": {}, "filterSet": {"items": [
                           {"name": "instance-state-name",
                            "valueSet": {"items": [{"value": "running"}]}}]}},
                       read_only=True))
    R.append(ct_record(t(41), lambda_role(), "s3.amazonaws.com", "GetObject", ip="10.0.3.17",
                       ua="[" + UA_BOTO + "]", category="Data", read_only=True,
                       host=f"{bucket}.s3.us-east-1.amazonaws.com",
                       req={"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
                            "key": "exports/2026-11-25/orders-0001.json"},
                       additional=s3_additional("get1"),
                       request_id=chars(16, "0123456789ABCDEF", "s3req", 1),
                       vpce="vpce-0a7e3c9f1b2d4e681",
                       resources=[{"type": "AWS::S3::Object",
                                   "ARN": f"arn:aws:s3:::{bucket}/exports/2026-11-25/orders-0001.json"},
                                  {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                   "ARN": f"arn:aws:s3:::{bucket}"}]))
    R.append(ct_record(t(65), ident_user("ci-deployer", ci_user_key), "sts.amazonaws.com",
                       "AssumeRole", ip="198.51.100.31", ua=UA_CLI.format(cmd="sts.assume-role"),
                       host="sts.us-east-1.amazonaws.com",
                       req={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/deploy-role",
                            "roleSessionName": "ci-deploy-8841", "durationSeconds": 3600},
                       resp={"credentials": {"accessKeyId": akid("ASIA", "deploy-8841"),
                                             "expiration": "Nov 25, 2026, 11:01:05 AM"},
                             "assumedRoleUser": {
                                 "assumedRoleId": principal_id("AROA", "deploy-role")
                                 + ":ci-deploy-8841",
                                 "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy-role/"
                                        "ci-deploy-8841"}},
                       read_only=True,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                                   "ARN": f"arn:aws:iam::{ACCOUNT}:role/deploy-role"}]))
    R.append(ct_record(t(66), ident_assumed("deploy-role", "ci-deploy-8841", "deploy-8841",
                                            t(65)),
                       "sts.amazonaws.com", "GetCallerIdentity", ip="198.51.100.31",
                       ua=UA_CLI.format(cmd="sts.get-caller-identity"),
                       host="sts.us-east-1.amazonaws.com", read_only=True))
    R.append(ct_record(t(95), ident_service("lambda.amazonaws.com"), "sts.amazonaws.com",
                       "AssumeRole", ip="lambda.amazonaws.com", ua="lambda.amazonaws.com",
                       req={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/orders-api-role",
                            "roleSessionName": ORDERS_FN},
                       resp={"credentials": {"accessKeyId": akid("ASIA", "orders-api-session"),
                                             "expiration": "Nov 25, 2026, 10:01:35 PM"}},
                       read_only=True, tls=False,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                                   "ARN": f"arn:aws:iam::{ACCOUNT}:role/orders-api-role"}],
                       additional={"lambdaSourceArn": ORDERS_ARN}))
    R.append(ct_record(t(97), lambda_role(), "kms.amazonaws.com", "Decrypt",
                       ip="10.0.3.17", ua=UA_BOTO, host="kms.us-east-1.amazonaws.com",
                       req={"encryptionContext": {"aws:lambda:FunctionArn": ORDERS_ARN},
                            "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                       read_only=True,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                                   "ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"
                                          f"{uuid4('kms', 'lambda-env')}"}]))
    R.append(ct_record(t(130), lambda_role(), "secretsmanager.amazonaws.com", "GetSecretValue",
                       ip="10.0.3.17", ua=UA_BOTO, host="secretsmanager.us-east-1.amazonaws.com",
                       req={"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
                                        "orders/db-AbC123"},
                       read_only=True, vpce="vpce-0c51d8a2e7f934b10"))
    R.append(ct_record(t(171), ops(), "s3.amazonaws.com", "ListBuckets", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="s3.amazonaws.com", console=True,
                       req={"Host": "s3.amazonaws.com"}, additional=s3_additional("lb"),
                       request_id=chars(16, "0123456789ABCDEF", "s3req", 2), read_only=True))
    R.append(ct_record(t(204), ops(), "logs.amazonaws.com", "DescribeLogGroups", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="logs.us-east-1.amazonaws.com",
                       console=True, req={"limit": 50, "logGroupNamePrefix": "/aws/lambda/"},
                       read_only=True))
    R.append(ct_record(t(233), ops(), "lambda.amazonaws.com", "GetFunction20150331v2",
                       ip=ops_ip, ua=SESSION_UA_CONSOLE, host="lambda.us-east-1.amazonaws.com",
                       console=True, req={"functionName": ORDERS_FN}, read_only=True))
    R.append(ct_record(t(268), lambda_role(), "dynamodb.amazonaws.com", "DescribeTable",
                       ip="10.0.3.17", ua=UA_BOTO, host="dynamodb.us-east-1.amazonaws.com",
                       req={"tableName": "orders"}, read_only=True,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table",
                                   "ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"}]))
    R.append(ct_record(t(301), ops(), "ec2.amazonaws.com", "DescribeSecurityGroups", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="ec2.us-east-1.amazonaws.com", console=True,
                       req={"securityGroupSet": {}, "securityGroupIdSet": {},
                            "filterSet": {"items": [{"name": "vpc-id", "valueSet": {
                                "items": [{"value": "vpc-0b1c2d3e4f5a69780"}]}}]}},
                       read_only=True))
    R.append(ct_record(t(345), ident_assumed("github-actions-oidc", "gha-orders-run-5512",
                                             "gha-5512", t(340)),
                       "ecr.amazonaws.com", "GetAuthorizationToken", ip="198.51.100.31",
                       ua="aws-sdk-nodejs/2.1691.0 linux/v20.18.0 exec-env/github-actions",
                       host="api.ecr.us-east-1.amazonaws.com", req=None, read_only=True))
    R.append(ct_record(t(388), lambda_role(), "ssm.amazonaws.com", "GetParameter",
                       ip="10.0.3.17", ua=UA_BOTO, host="ssm.us-east-1.amazonaws.com",
                       req={"name": "/orders/feature-flags", "withDecryption": False},
                       read_only=True))
    R.append(ct_record(t(421), ops(), "cloudtrail.amazonaws.com", "LookupEvents", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="cloudtrail.us-east-1.amazonaws.com",
                       console=True, req={"maxResults": 50, "lookupAttributes": [
                           {"attributeKey": "ReadOnly", "attributeValue": "false"}]},
                       read_only=True))
    R.append(ct_record(t(460), ops(), "ec2.amazonaws.com", "DescribeVpcs", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="ec2.us-east-1.amazonaws.com", console=True,
                       req={"vpcSet": {}, "filterSet": {}}, read_only=True))
    R.append(ct_record(t(503), lambda_role(), "s3.amazonaws.com", "GetObject",
                       ip="10.0.3.17", ua="[" + UA_BOTO + "]", category="Data",
                       host=f"{bucket}.s3.us-east-1.amazonaws.com", read_only=True,
                       req={"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
                            "key": "exports/2026-11-25/orders-0002.json"},
                       additional=s3_additional("get2"),
                       request_id=chars(16, "0123456789ABCDEF", "s3req", 3),
                       vpce="vpce-0a7e3c9f1b2d4e681",
                       resources=[{"type": "AWS::S3::Object",
                                   "ARN": f"arn:aws:s3:::{bucket}/exports/2026-11-25/orders-0002.json"},
                                  {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                   "ARN": f"arn:aws:s3:::{bucket}"}]))
    R.append(ct_record(t(540), ops(), "iam.amazonaws.com", "ListRoles", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="iam.amazonaws.com", console=True,
                       req={"maxItems": 100}, read_only=True))
    R.append(ct_record(t(575), ops(), "monitoring.amazonaws.com", "GetMetricData", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="monitoring.us-east-1.amazonaws.com",
                       console=True, req={"startTime": "Nov 25, 2026, 7:00:00 AM",
                                          "endTime": "Nov 25, 2026, 10:00:00 AM",
                                          "maxDatapoints": 1440}, read_only=True))

    # ---- CIS triggers -------------------------------------------------------------------
    # CloudWatch.3 — console sign-in without MFA (IAMUser, Success, MFAUsed No)
    R.append(ct_record(t(610), ident_user("alice"), "signin.amazonaws.com", "ConsoleLogin",
                       ip="198.51.100.42", ua=UA_BROWSER, event_type="AwsConsoleSignIn",
                       resp={"ConsoleLogin": "Success"}, read_only=False,
                       host="signin.aws.amazon.com",
                       additional={"LoginTo": "https://console.aws.amazon.com/console/home?"
                                              "hashArgs=%23&isauthcode=true&state=hashArgsFromTB",
                                   "MobileVersion": "No", "MFAUsed": "No"}))
    # CloudWatch.6 — console authentication failure
    bob = {"type": "IAMUser", "principalId": principal_id("AIDA", "bob"),
           "arn": f"arn:aws:iam::{ACCOUNT}:user/bob", "accountId": ACCOUNT,
           "accessKeyId": "", "userName": "bob"}
    R.append(ct_record(t(640), bob, "signin.amazonaws.com", "ConsoleLogin",
                       ip="203.0.113.61", ua=UA_BROWSER, event_type="AwsConsoleSignIn",
                       error=(None, "Failed authentication"), resp={"ConsoleLogin": "Failure"},
                       read_only=False, host="signin.aws.amazon.com",
                       additional={"LoginTo": "https://console.aws.amazon.com/console/home?"
                                              "hashArgs=%23&isauthcode=true&state=hashArgsFromTB",
                                   "MobileVersion": "No", "MFAUsed": "No"}))
    # negative: console sign-in WITH MFA
    R.append(ct_record(t(662), ident_user("carol"), "signin.amazonaws.com", "ConsoleLogin",
                       ip="198.51.100.43", ua=UA_BROWSER, event_type="AwsConsoleSignIn",
                       resp={"ConsoleLogin": "Success"}, read_only=False,
                       host="signin.aws.amazon.com",
                       additional={"LoginTo": "https://console.aws.amazon.com/console/home?"
                                              "hashArgs=%23&isauthcode=true&state=hashArgsFromTB",
                                   "MobileVersion": "No", "MFAIdentifier":
                                       f"arn:aws:iam::{ACCOUNT}:mfa/carol-yubikey",
                                   "MFAUsed": "Yes"}))
    # negative: root AwsServiceEvent (sign-in credential challenge)
    root_blank = ident_root(key="")
    R.append(ct_record(t(700), root_blank, "signin.amazonaws.com", "CredentialChallenge",
                       ip="192.0.2.200", ua=UA_BROWSER, event_type="AwsServiceEvent",
                       additional={"CredentialType": "PASSWORD"},
                       service_event={"CredentialChallenge": "Success"}, read_only=False,
                       host="signin.aws.amazon.com", request_id=uuid4("ct-req", "cc")))
    # CloudWatch.1 — root account use (AwsApiCall, no invokedBy)
    R.append(ct_record(t(731), ident_root(key=akid("ASIA", "root-console"),
                                          created_ms=t(705)),
                       "iam.amazonaws.com", "CreateAccessKey", ip="192.0.2.200",
                       ua=SESSION_UA_CONSOLE, host="iam.amazonaws.com", console=True,
                       req=None,
                       resp={"accessKey": {"userName": "", "accessKeyId": akid("AKIA", "root-new"),
                                           "status": "Active",
                                           "createDate": "Nov 25, 2026, 10:12:11 AM"}},
                       read_only=False))
    # negative: root with invokedBy set
    R.append(ct_record(t(760), ident_root(invoked_by="support.amazonaws.com"),
                       "ec2.amazonaws.com", "DescribeVolumes", ip="support.amazonaws.com",
                       ua="support.amazonaws.com", tls=False,
                       req={"volumeSet": {}, "filterSet": {}}, read_only=True))
    # CloudWatch.4 — IAM policy change
    admin_key = akid("AKIA", "ops-admin-cli")
    R.append(ct_record(t(802), ident_user("ops-admin", admin_key), "iam.amazonaws.com",
                       "PutUserPolicy", ip="192.0.2.200",
                       ua=UA_CLI.format(cmd="iam.put-user-policy"), host="iam.amazonaws.com",
                       req={"userName": "svc-reporting", "policyName": "inline-admin",
                            "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{"
                                              "\"Effect\":\"Allow\",\"Action\":\"*\","
                                              "\"Resource\":\"*\"}]}"},
                       read_only=False))
    # CloudWatch.5 — CloudTrail configuration change
    R.append(ct_record(t(845), ident_user("ops-admin", admin_key), "cloudtrail.amazonaws.com",
                       "StopLogging", ip="192.0.2.200",
                       ua=UA_CLI.format(cmd="cloudtrail.stop-logging"),
                       host="cloudtrail.us-east-1.amazonaws.com",
                       req={"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/"
                                    "management-events"},
                       read_only=False,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail",
                                   "ARN": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/"
                                          "management-events"}]))
    # CloudWatch.7 — KMS key scheduled for deletion
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uuid4('kms', 'orders-data')}"
    R.append(ct_record(t(880), ident_user("ops-admin", admin_key), "kms.amazonaws.com",
                       "ScheduleKeyDeletion", ip="192.0.2.200",
                       ua=UA_CLI.format(cmd="kms.schedule-key-deletion"),
                       host="kms.us-east-1.amazonaws.com",
                       req={"keyId": key_arn, "pendingWindowInDays": 7},
                       resp={"keyId": key_arn, "deletionDate": "Dec 2, 2026, 10:14:40 AM",
                             "keyState": "PendingDeletion", "pendingWindowInDays": 7},
                       read_only=False,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                                   "ARN": key_arn}]))
    # CloudWatch.8 — S3 bucket policy change
    R.append(ct_record(t(915), ident_user("ops-admin", admin_key), "s3.amazonaws.com",
                       "PutBucketPolicy", ip="192.0.2.200",
                       ua="[" + UA_CLI.format(cmd="s3api.put-bucket-policy") + "]",
                       host="s3.amazonaws.com",
                       req={"bucketName": bucket, "Host": "s3.amazonaws.com", "policy": "",
                            "bucketPolicy": {"Version": "2012-10-17", "Statement": [{
                                "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{bucket}/*"}]}},
                       additional=s3_additional("pbp"),
                       request_id=chars(16, "0123456789ABCDEF", "s3req", 4), read_only=False,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                   "ARN": f"arn:aws:s3:::{bucket}"}]))
    # CloudWatch.9 — AWS Config change
    R.append(ct_record(t(950), ident_user("ops-admin", admin_key), "config.amazonaws.com",
                       "StopConfigurationRecorder", ip="192.0.2.200",
                       ua=UA_CLI.format(cmd="configservice.stop-configuration-recorder"),
                       host="config.us-east-1.amazonaws.com",
                       req={"configurationRecorderName": "default"}, read_only=False))
    # CloudWatch.10..14 — network changes (Terraform run)
    tf = ident_assumed("deploy-role", "ci-deploy-8841", "deploy-8841", t(65))
    sg = "sg-0d3f5a7b9c1e24680"
    R.append(ct_record(t(1001), tf, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
                       ip="198.51.100.31", ua=UA_TF.format(api="ec2#1.189.0"),
                       host="ec2.us-east-1.amazonaws.com",
                       req={"groupId": sg, "ipPermissions": {"items": [{
                           "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
                           "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0",
                                                   "description": "temp debug"}]},
                           "ipv6Ranges": {}, "prefixListIds": {}}]}},
                       resp=ec2_resp("asgi", _return=True, securityGroupRuleSet={"items": [{
                           "groupOwnerId": ACCOUNT, "groupId": sg,
                           "securityGroupRuleId": "sgr-0f1e2d3c4b5a69788", "isEgress": False,
                           "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                           "cidrIpv4": "0.0.0.0/0", "description": "temp debug"}]}),
                       read_only=False))
    R.append(ct_record(t(1012), tf, "ec2.amazonaws.com", "CreateNetworkAclEntry",
                       ip="198.51.100.31", ua=UA_TF.format(api="ec2#1.189.0"),
                       host="ec2.us-east-1.amazonaws.com",
                       req={"networkAclId": "acl-0e4c6a8b0d2f13579", "ruleNumber": 90,
                            "egress": False, "ruleAction": "allow", "icmpTypeCode": {},
                            "portRange": {"from": 3389, "to": 3389}, "aclProtocol": "6",
                            "cidrBlock": "0.0.0.0/0"},
                       resp=ec2_resp("nacl", _return=True), read_only=False))
    R.append(ct_record(t(1024), tf, "ec2.amazonaws.com", "CreateVpc", ip="198.51.100.31",
                       ua=UA_TF.format(api="ec2#1.189.0"), host="ec2.us-east-1.amazonaws.com",
                       req={"cidrBlock": "10.20.0.0/16", "instanceTenancy": "default",
                            "amazonProvidedIpv6CidrBlock": False},
                       resp=ec2_resp("vpc", vpc={
                           "vpcId": "vpc-0f2e4d6c8b0a13579", "state": "pending",
                           "ownerId": ACCOUNT, "cidrBlock": "10.20.0.0/16",
                           "cidrBlockAssociationSet": {"items": [{
                               "cidrBlock": "10.20.0.0/16",
                               "associationId": "vpc-cidr-assoc-0a1b2c3d4e5f60718",
                               "cidrBlockState": {"state": "associated"}}]},
                           "ipv6CidrBlockAssociationSet": {},
                           "dhcpOptionsId": "dopt-0c9d8e7f6a5b43210",
                           "instanceTenancy": "default", "tagSet": {}, "isDefault": False}),
                       read_only=False))
    R.append(ct_record(t(1031), tf, "ec2.amazonaws.com", "CreateInternetGateway",
                       ip="198.51.100.31", ua=UA_TF.format(api="ec2#1.189.0"),
                       host="ec2.us-east-1.amazonaws.com",
                       req={"tagSpecificationSet": {"items": [{"resourceType":
                                                               "internet-gateway",
                            "tags": [{"key": "Name", "value": "debug-igw"}]}]}},
                       resp=ec2_resp("igw", internetGateway={
                           "internetGatewayId": "igw-0a9b8c7d6e5f43210", "ownerId": ACCOUNT,
                           "attachmentSet": {},
                           "tagSet": {"items": [{"key": "Name", "value": "debug-igw"}]}}),
                       read_only=False))
    R.append(ct_record(t(1040), tf, "ec2.amazonaws.com", "CreateRoute", ip="198.51.100.31",
                       ua=UA_TF.format(api="ec2#1.189.0"), host="ec2.us-east-1.amazonaws.com",
                       req={"routeTableId": "rtb-0b8a7c6d5e4f32109",
                            "destinationCidrBlock": "0.0.0.0/0",
                            "gatewayId": "igw-0a9b8c7d6e5f43210"},
                       resp=ec2_resp("route", _return=True), read_only=False))
    # CloudWatch.2 — one UnauthorizedOperation and one AccessDenied (different principals)
    R.append(ct_record(t(1090), ident_user("ci-deployer", ci_user_key), "ec2.amazonaws.com",
                       "RunInstances", ip="198.51.100.31",
                       ua=UA_CLI.format(cmd="ec2.run-instances"),
                       host="ec2.us-east-1.amazonaws.com",
                       error=("Client.UnauthorizedOperation",
                              "You are not authorized to perform this operation. User: "
                              f"arn:aws:iam::{ACCOUNT}:user/ci-deployer is not authorized to "
                              "perform: ec2:RunInstances on resource: "
                              f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/* because no "
                              "identity-based policy allows the ec2:RunInstances action"),
                       req={"instancesSet": {"items": [{"imageId": "ami-0c1d2e3f4a5b69788",
                                                        "minCount": 1, "maxCount": 1}]},
                            "instanceType": "p5.48xlarge", "blockDeviceMapping": {},
                            "monitoring": {"enabled": False},
                            "disableApiTermination": False, "disableApiStop": False,
                            "clientToken": uuid4("client-token", 1)},
                       read_only=False))
    analytics = ident_assumed("analytics-readonly", "quicksight-refresh", "analytics",
                              t(1000))
    R.append(ct_record(t(1130), analytics, "s3.amazonaws.com", "GetObject",
                       ip="10.0.7.44", ua="[" + UA_BOTO + "]", category="Data", read_only=True,
                       host=f"finance-ledger-{ACCOUNT}.s3.us-east-1.amazonaws.com",
                       error=("AccessDenied", "Access Denied"),
                       req={"bucketName": f"finance-ledger-{ACCOUNT}",
                            "Host": f"finance-ledger-{ACCOUNT}.s3.us-east-1.amazonaws.com",
                            "key": "ledger/2026/11/ledger.parquet"},
                       additional=s3_additional("ad1"),
                       request_id=chars(16, "0123456789ABCDEF", "s3req", 5),
                       resources=[{"type": "AWS::S3::Object",
                                   "ARN": f"arn:aws:s3:::finance-ledger-{ACCOUNT}/ledger/2026/11/"
                                          "ledger.parquet"},
                                  {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                   "ARN": f"arn:aws:s3:::finance-ledger-{ACCOUNT}"}]))

    # ---- AccessDenied burst: 12 from one principal within 5 minutes ---------------------
    attacker_ip = "203.0.113.50"
    stolen = lambda: ident_assumed("ci-runner", "gh-actions-7731", "ci-runner-7731", t(1700))
    probe_ua = UA_BOTO.replace("exec-env/AWS_Lambda_python3.12 ", "")
    burst = [
        ("iam.amazonaws.com", "ListUsers", {"maxItems": 1000}),
        ("iam.amazonaws.com", "ListRoles", {"maxItems": 1000}),
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails", {"maxItems": 1000}),
        ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}),
        ("iam.amazonaws.com", "ListAccessKeys", {"userName": "ops-admin"}),
        ("iam.amazonaws.com", "ListGroups", {"maxItems": 1000}),
        ("sts.amazonaws.com", "AssumeRole", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/"
                                                        "OrganizationAccountAccessRole",
                                             "roleSessionName": "probe"}),
        ("s3.amazonaws.com", "GetBucketAcl", {"bucketName": f"finance-ledger-{ACCOUNT}",
                                              "Host": f"finance-ledger-{ACCOUNT}.s3."
                                                      "amazonaws.com", "acl": ""}),
        ("iam.amazonaws.com", "GetUser", {"userName": "ops-admin"}),
        ("iam.amazonaws.com", "ListPolicies", {"scope": "Local", "maxItems": 1000}),
        ("sts.amazonaws.com", "AssumeRole", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/"
                                                        "deploy-role",
                                             "roleSessionName": "probe"}),
        ("s3.amazonaws.com", "GetObject", {"bucketName": f"finance-ledger-{ACCOUNT}",
                                           "Host": f"finance-ledger-{ACCOUNT}.s3.amazonaws.com",
                                           "key": "ledger/2026/11/ledger.parquet"}),
    ]
    burst_secs = [1805, 1821, 1840, 1862, 1877, 1899, 1926, 1950, 1981, 2013, 2047, 2079]
    for i, ((source, name, req), sec) in enumerate(zip(burst, burst_secs)):
        service = source.split(".")[0]
        action = {"s3": "s3", "iam": "iam", "sts": "sts"}[service] + ":" + name
        msg = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ci-runner/gh-actions-7731 is not "
               f"authorized to perform: {action} because no identity-based policy allows the "
               f"{action} action")
        if service == "s3":
            msg = "Access Denied"
        extra = {}
        if service == "s3":
            extra = {"additional": s3_additional(f"burst{i}"),
                     "request_id": chars(16, "0123456789ABCDEF", "s3req", 10 + i)}
        R.append(ct_record(t(sec), stolen(), source, name, ip=attacker_ip, ua=probe_ua,
                           host=("s3.amazonaws.com" if service == "s3" else
                                 f"{service}.amazonaws.com"),
                           error=("AccessDenied", msg), req=req,
                           read_only=True,
                           category="Data" if name == "GetObject" else "Management",
                           seed=f"burst-{i}", **extra))

    # a few more normal records after the burst
    R.append(ct_record(t(2150), lambda_role(), "dynamodb.amazonaws.com", "DescribeTable",
                       ip="10.0.3.17", ua=UA_BOTO, host="dynamodb.us-east-1.amazonaws.com",
                       req={"tableName": "orders"}, read_only=True, seed="dt2",
                       resources=[{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table",
                                   "ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"}]))
    R.append(ct_record(t(2220), ops(), "ec2.amazonaws.com", "DescribeInstances", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="ec2.us-east-1.amazonaws.com",
                       console=True, req={"instancesSet": {}, "filterSet": {}},
                       read_only=True, seed="di2"))
    R.append(ct_record(t(2290), ident_service("events.amazonaws.com"), "sts.amazonaws.com",
                       "AssumeRole", ip="events.amazonaws.com", ua="events.amazonaws.com",
                       req={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/nightly-export-scheduler",
                            "roleSessionName": hexs(32, "events-session")},
                       resp={"credentials": {"accessKeyId": akid("ASIA", "events-session"),
                                             "expiration": "Nov 25, 2026, 11:38:10 AM"}},
                       read_only=True, tls=False,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                                   "ARN": f"arn:aws:iam::{ACCOUNT}:role/"
                                          "nightly-export-scheduler"}]))
    R.append(ct_record(t(2360), ident_user("ci-deployer", ci_user_key), "sts.amazonaws.com",
                       "GetCallerIdentity", ip="198.51.100.31",
                       ua=UA_CLI.format(cmd="sts.get-caller-identity"),
                       host="sts.us-east-1.amazonaws.com", read_only=True, seed="gci2"))
    R.append(ct_record(t(2435), lambda_role(), "kms.amazonaws.com", "GenerateDataKey",
                       ip="10.0.3.17", ua=UA_BOTO, host="kms.us-east-1.amazonaws.com",
                       req={"keyId": "alias/orders-data", "keySpec": "AES_256",
                            "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket}"}},
                       read_only=True,
                       resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                                   "ARN": key_arn}]))
    R.append(ct_record(t(2510), ops(), "logs.amazonaws.com", "FilterLogEvents", ip=ops_ip,
                       ua=SESSION_UA_CONSOLE, host="logs.us-east-1.amazonaws.com",
                       console=True, req={"logGroupName": "/aws/lambda/orders-api",
                                          "startTime": BASE_MS, "filterPattern": "ERROR"},
                       read_only=True))

    events = [(ms, cj(rec)) for ms, rec in R]
    return subscription_payload("cloudtrail.json", f"aws-cloudtrail-logs-{ACCOUNT}",
                                f"{ACCOUNT}_CloudTrail_{REGION}", events)


# --------------------------------------------------------------------------------------
# 5. waf.json — aws-waf-logs-edge
# --------------------------------------------------------------------------------------
WEBACL = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/edge-webacl/{uuid4('webacl')}"
RATE_RULE_ID = uuid4("rate-rule")


def make_waf():
    events = []
    managed = ["AWS#AWSManagedRulesCommonRuleSet", "AWS#AWSManagedRulesKnownBadInputsRuleSet",
               "AWS#AWSManagedRulesSQLiRuleSet"]

    def rec(ms, ip, country, method, uri, args, ua, action="ALLOW", rule="Default_Action",
            rule_type="REGULAR", match=None, groups=None, rate=None, labels=None, seed=None,
            non_terminating=None):
        seed = seed or f"{ms}-{ip}-{uri}"
        r = {
            "timestamp": ms,
            "formatVersion": 1,
            "webaclId": WEBACL,
            "terminatingRuleId": rule,
            "terminatingRuleType": rule_type,
            "action": action,
            "terminatingRuleMatchDetails": match or [],
            "httpSourceName": "ALB",
            "httpSourceId": f"{ACCOUNT}-app/edge-alb/{hexs(16, 'alb')}",
            "ruleGroupList": groups if groups is not None else [
                {"ruleGroupId": g, "terminatingRule": None, "nonTerminatingMatchingRules": [],
                 "excludedRules": None, "customerConfig": None} for g in managed],
            "rateBasedRuleList": rate or [],
            "nonTerminatingMatchingRules": non_terminating or [],
            "requestHeadersInserted": None,
            "responseCodeSent": None,
            "httpRequest": {
                "clientIp": ip,
                "country": country,
                "headers": [
                    {"name": "Host", "value": "shop.example.com"},
                    {"name": "User-Agent", "value": ua},
                    {"name": "Accept", "value": "application/json, text/plain, */*"},
                    {"name": "Accept-Encoding", "value": "gzip, deflate, br"},
                    {"name": "X-Forwarded-For", "value": ip},
                ],
                "uri": uri,
                "args": args,
                "httpVersion": "HTTP/1.1",
                "httpMethod": method,
                "requestId": f"1-{ms // 1000:08x}-{hexs(24, 'waf-req', seed)}",
                "fragment": "",
                "scheme": "https",
                "host": "shop.example.com",
            },
            "labels": labels or [],
            "requestBodySize": 0 if method == "GET" else 96,
            "requestBodySizeInspectedByWAF": 0 if method == "GET" else 96,
            "ja3Fingerprint": hexs(32, "ja3", ua),
        }
        events.append((ms, cj(r)))

    # normal ALLOW traffic from many clients
    clients = [("198.51.100.23", "US", UA_MOBILE), ("198.51.100.42", "DE", UA_BROWSER),
               ("192.0.2.18", "FR", UA_BROWSER), ("198.51.100.90", "NL", UA_BROWSER),
               ("192.0.2.77", "GB", UA_MOBILE), ("198.51.100.5", "US", UA_BROWSER)]
    paths = [("GET", "/api/v1/products", "page=2&sort=price"), ("GET", "/api/v1/cart", ""),
             ("POST", "/api/v1/cart/items", ""), ("GET", "/api/v1/products/sku-4471", ""),
             ("GET", "/", ""), ("GET", "/static/app.3f9a1c.js", "")]
    allow_secs = [4.2, 19.7, 33.1, 51.9, 70.4, 96.2, 121.0, 150.3, 188.8, 231.4, 260.0,
                  402.5, 455.1, 512.7, 580.0, 640.9, 700.3, 760.8]
    for i, sec in enumerate(allow_secs):
        ip, country, ua = clients[i % len(clients)]
        method, uri, args = paths[(i * 5) % len(paths)]
        rec(t(sec), ip, country, method, uri, args, ua, seed=f"allow-{i}")

    # rate-based rule: 203.0.113.88 first allowed, then 15 BLOCKs within 5 minutes
    flood_ip, flood_ua = "203.0.113.88", "Go-http-client/1.1"
    for i, sec in enumerate([270.1, 278.4, 286.9]):
        rec(t(sec), flood_ip, "VN", "POST", "/api/v1/login", "", flood_ua, seed=f"pre-{i}")
    block_secs = [300.2, 318.5, 337.9, 355.0, 371.6, 392.3, 410.8, 428.1, 446.7, 465.2, 484.9,
                  503.3, 521.0, 547.6, 581.4]
    for i, sec in enumerate(block_secs):
        rec(t(sec), flood_ip, "VN", "POST", "/api/v1/login", "", flood_ua,
            action="BLOCK", rule="rate-limit-per-ip", rule_type="RATE_BASED",
            rate=[{"rateBasedRuleId": RATE_RULE_ID, "rateBasedRuleName": "rate-limit-per-ip",
                   "limitKey": "IP", "maxRateAllowed": 100, "evaluationWindowSec": "300",
                   "customValues": []}],
            groups=[], seed=f"block-{i}")

    # managed SQLi rule BLOCK
    sqli_args = "q=1%27%20OR%20%271%27%3D%271%27%20--%20"
    rec(t(615.3), "192.0.2.150", "RU", "GET", "/api/v1/products/search", sqli_args,
        "sqlmap/1.8.3#stable (https://sqlmap.org)", action="BLOCK",
        rule="AWS-AWSManagedRulesSQLiRuleSet", rule_type="MANAGED_RULE_GROUP",
        match=[{"conditionType": "SQL_INJECTION", "sensitivityLevel": "LOW",
                "location": "QUERY_STRING", "matchedData": ["1", "'", "OR", "'1'='1'", "--"]}],
        groups=[{"ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet", "terminatingRule": None,
                 "nonTerminatingMatchingRules": [], "excludedRules": None,
                 "customerConfig": None},
                {"ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet",
                 "terminatingRule": {"ruleId": "SQLi_QUERYARGUMENTS", "action": "BLOCK",
                                     "ruleMatchDetails": None},
                 "nonTerminatingMatchingRules": [], "excludedRules": None,
                 "customerConfig": None}],
        labels=[{"name": "awswaf:managed:aws:sql-database:SQLi_QueryArguments"}],
        seed="sqli")
    # a COUNT-mode match that is not terminating (bot-like UA), still ALLOW
    rec(t(668.0), "192.0.2.18", "FR", "GET", "/api/v1/products", "page=1", "curl/8.5.0",
        non_terminating=[{"ruleId": "user-agent-curl", "action": "COUNT",
                          "ruleMatchDetails": []}],
        labels=[{"name": f"awswaf:{ACCOUNT}:webacl:edge-webacl:ua:curl"}], seed="count")

    return subscription_payload("waf.json", "aws-waf-logs-edge",
                                f"{REGION}_edge-webacl_0", events)


# --------------------------------------------------------------------------------------
# 6. vpc-flow.json — vpc-flow-logs (default v2 format)
# --------------------------------------------------------------------------------------
def make_vpc_flow():
    eni = "eni-0a1b2c3d4e5f67890"
    events = []
    s0 = BASE_MS // 1000

    def flow(start, end, src, dst, sport, dport, proto, packets, nbytes, action):
        line = (f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} {proto} {packets} {nbytes} "
                f"{s0 + start} {s0 + end} {action} OK")
        events.append(((s0 + start) * 1000, line))

    web = "10.0.1.25"
    # normal traffic around the scan (aggregation windows of 60 s from 10:15:00)
    normal = [
        ("10.0.0.14", web, 41822, 443, 6, 38, 21877, "ACCEPT"),
        (web, "10.0.0.14", 443, 41822, 6, 31, 61044, "ACCEPT"),
        (web, "10.0.12.40", 50512, 5432, 6, 22, 4410, "ACCEPT"),
        ("10.0.12.40", web, 5432, 50512, 6, 20, 9822, "ACCEPT"),
        (web, "10.0.0.2", 40123, 53, 17, 2, 146, "ACCEPT"),
        ("10.0.0.2", web, 53, 40123, 17, 2, 318, "ACCEPT"),
        ("198.51.100.23", web, 51877, 443, 6, 14, 2960, "ACCEPT"),
        (web, "198.51.100.23", 443, 51877, 6, 12, 8712, "ACCEPT"),
        (web, "203.0.113.10", 38211, 443, 6, 9, 1402, "ACCEPT"),
        ("192.0.2.18", web, 60212, 22, 6, 1, 60, "REJECT"),
    ]
    for w in range(0, 4):  # windows 10:15..10:19
        base = 900 + w * 60
        for j, (src, dst, sp, dp, pr, pk, by, act) in enumerate(normal):
            if w % 2 and j >= 8:
                continue
            flow(base + (j * 3) % 50, base + 60, src, dst, sp + w, dp if dp < 1024 else dp + w,
                 pr, pk + w, by + w * 131, act)
    # the port scan: 198.51.100.77 → 10.0.1.25, 30 distinct ports, REJECT, 10:20:00-10:22:00
    ports = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 993,
             995, 1433, 1521, 2049, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017]
    for i, port in enumerate(ports):
        start = 1200 + i * 3  # 10:20:00 .. 10:21:27
        end = 1260 if start < 1260 else 1320
        flow(start, end, "198.51.100.77", web, 40000 + (i * 7919) % 20000, port, 6, 1, 44,
             "REJECT")
    # a NODATA and a SKIPDATA record
    events.append(((s0 + 1320) * 1000, f"2 {ACCOUNT} {eni} - - - - - - - {s0 + 1320} "
                                       f"{s0 + 1380} - NODATA"))
    events.append(((s0 + 1440) * 1000, f"2 {ACCOUNT} {eni} - - - - - - - {s0 + 1440} "
                                       f"{s0 + 1500} - SKIPDATA"))
    for w in range(0, 2):  # normal traffic resumes 10:25..10:27
        base = 1500 + w * 60
        for j, (src, dst, sp, dp, pr, pk, by, act) in enumerate(normal[:8]):
            flow(base + (j * 5) % 50, base + 60, src, dst, sp + 11 + w,
                 dp if dp < 1024 else dp + 11 + w, pr, pk + 2, by + 77, act)
    return subscription_payload("vpc-flow.json", "vpc-flow-logs", f"{eni}-all", events)


# --------------------------------------------------------------------------------------
# 7. api-gateway.json — access logs; the stage switched from CLF to JSON at 10:10
# --------------------------------------------------------------------------------------
def make_api_gateway():
    events = []
    resources = [("GET", "/orders"), ("GET", "/orders/{orderId}"), ("POST", "/orders"),
                 ("GET", "/products"), ("POST", "/auth/login"), ("GET", "/health")]
    good_ips = ["198.51.100.23", "198.51.100.42", "192.0.2.18", "198.51.100.90", "10.0.4.12"]

    def clf(sec, ip, method, path, status, length, seed):
        ms = t(sec)
        rid = uuid4("apigw", seed)
        events.append((ms, f'{ip} - - [{clf_ts(ms)}] "{method} {path} HTTP/1.1" {status} '
                           f'{length} {rid}'))

    def jsn(sec, ip, method, path, status, length, seed, user="-", caller="-"):
        ms = t(sec)
        events.append((ms, cj({
            "requestId": uuid4("apigw", seed), "ip": ip, "caller": caller, "user": user,
            "requestTime": clf_ts(ms), "httpMethod": method, "resourcePath": path,
            "status": str(status), "protocol": "HTTP/1.1", "responseLength": str(length)})))

    # CLF until 10:10
    n = 0
    for sec in range(7, 600, 19):
        method, path = resources[n % len(resources)]
        status = 200 if method == "GET" else 201
        if path == "/auth/login":
            status = 200
        if n in (9, 21):
            status = 403  # scattered, under any threshold
        if n == 14:
            status = 502
        clf(sec, good_ips[n % len(good_ips)], method, path, status, 120 + (n * 53) % 900,
            f"clf-{n}")
        n += 1
    # JSON from 10:10
    m = 0
    for sec in range(604, 1200, 23):
        method, path = resources[m % len(resources)]
        status = 200 if method == "GET" else 201
        if m == 7:
            status = 401
        jsn(sec, good_ips[m % len(good_ips)], method, path, status, 110 + (m * 71) % 950,
            f"json-{m}")
        m += 1
    # 12 x 401/403 from 203.0.113.66 within one aligned 5-minute window (10:10:00 .. 10:14:10)
    burst = [600, 621, 639, 663, 682, 706, 728, 751, 773, 794, 821, 850]
    for i, sec in enumerate(burst):
        path = "/auth/login" if i % 3 else "/orders"
        method = "POST" if path == "/auth/login" else "GET"
        jsn(sec, "203.0.113.66", method, path, 401 if i % 3 else 403, 62, f"burst-{i}")
    return subscription_payload("api-gateway.json", "API-Gateway-Access-Logs_k7x2m9q4ab/prod",
                                hexs(32, "apigw-stream"), events)


# --------------------------------------------------------------------------------------
# 8. control-message.json — as CloudWatch Logs sends it (owner CloudwatchLogs, empty id)
# --------------------------------------------------------------------------------------
def make_control():
    return {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": BASE_MS,
                       "message": "CWL CONTROL MESSAGE: Checking health of destination "
                                  "Firehose."}],
    }


# --------------------------------------------------------------------------------------
# 9. local/app.log and local/events.jsonl — plain files for `logwarden replay`
# --------------------------------------------------------------------------------------
def make_local_app_log() -> str:
    lines = []
    req1, req2, req3 = (uuid4("local", i) for i in range(3))

    def node(sec, req, level, msg):
        lines.append(f"{iso_ms(t(sec))}\t{req}\t{level}\t{msg}")

    lines.append("> recommendations-svc@1.9.0 start")
    lines.append("> node --enable-source-maps dist/server.js")
    lines.append("")
    node(2400.012, req1, "INFO", "recommendations-svc 1.9.0 starting (node v20.18.0)")
    node(2400.030, req1, "INFO", cj({"msg": "config loaded", "env": "staging",
                                     "region": REGION, "cacheTtlSeconds": 300}))
    # planted OpenAI-style project key
    node(2400.041, req1, "INFO", cj({"msg": "LLM client ready", "provider": "openai",
                                     "model": "gpt-4o-mini", "apiKey": OPENAI_KEY}))
    lines.append("Server listening on http://0.0.0.0:8080")
    for i in range(8):
        req = [req1, req2, req3][i % 3]
        node(2401 + i * 7.3, req, "INFO", f"GET /v1/recommendations?user=u-{1100 + i * 13} "
                                          f"200 {41 + i * 3} ms")
    node(2460.5, req2, "WARN", "cache miss ratio 0.41 above 0.30 for 5 min")
    lines.append("(node:17) [DEP0040] DeprecationWarning: The `punycode` module is deprecated. "
                 "Please use a userland alternative instead.")
    node(2470.9, req3, "ERROR", cj({"msg": "upstream error", "status": 503,
                                    "upstream": "catalog-svc", "retryInMs": 250}))
    lines.append("    at CatalogClient.fetch (/app/dist/catalog.js:88:15)")
    for i in range(6):
        req = [req1, req2, req3][(i + 1) % 3]
        node(2480 + i * 9.1, req, "INFO", f"GET /v1/recommendations?user=u-{1300 + i * 7} "
                                          f"200 {38 + i * 5} ms")
    lines.append("SIGTERM received, draining connections")
    lines.append("bye")
    return "\n".join(lines) + "\n"


def make_local_events_jsonl() -> str:
    out = []

    def ev(sec, typ, severity, details):
        out.append(cj(security_event(t(sec), typ, severity, details)))

    ev(2700, "login_succeeded", "low", {"reason": "password+totp", "sourceIp": "198.51.100.42",
                                        "userAgent": UA_BROWSER, "userId": "u-1188",
                                        "endpoint": "/v1/auth/login", "requestCount": 1})
    # 12 authentication failures from 203.0.113.9 within 3 minutes
    for i in range(12):
        ev(2710 + i * 15, "authentication_failed", "medium",
           {"reason": "invalid_password" if i % 3 else "unknown_user",
            "sourceIp": "203.0.113.9", "userAgent": "python-requests/2.32.3",
            "userId": f"u-{1400 + (i * 37) % 9}", "endpoint": "/v1/auth/login",
            "requestCount": i + 1})
    ev(2900, "rate_limit_exceeded", "low", {"reason": "per_user_limit",
                                            "sourceIp": "198.51.100.61",
                                            "userAgent": "orders-sync/3.4.1 okhttp/4.12.0",
                                            "userId": "u-1042", "endpoint": "/v1/orders",
                                            "requestCount": 104})
    # planted Basic credentials in a captured header
    ev(2921, "suspicious_activity", "high",
       {"reason": "credentials sent over plain HTTP to internal admin endpoint",
        "sourceIp": "10.0.5.31", "userAgent": "curl/8.5.0", "userId": "svc-reporting",
        "endpoint": "/internal/admin/export", "requestCount": 1,
        "rawHeader": f"Authorization: Basic {BASIC_AUTH_B64}"})
    ev(2950, "authorization_denied", "medium",
       {"reason": "missing scope orders:admin", "sourceIp": "198.51.100.90",
        "userAgent": UA_BROWSER, "userId": "u-7731", "endpoint": "/v1/admin/orders",
        "requestCount": 1})
    ev(2990, "password_reset_requested", "low",
       {"reason": "user_request", "sourceIp": "198.51.100.23", "userAgent": UA_MOBILE,
        "userId": "u-2001", "endpoint": "/v1/auth/password-reset", "requestCount": 1})
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# write + verify
# --------------------------------------------------------------------------------------
def decode_lambda_event(text: str) -> dict:
    outer = json.loads(text)
    assert set(outer) == {"awslogs"} and set(outer["awslogs"]) == {"data"}, "bad envelope"
    data = outer["awslogs"]["data"]
    assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", data) and len(data) % 4 == 0, "not padded b64"
    raw = base64.b64decode(data, validate=True)
    assert raw[:2] == b"\x1f\x8b", "not gzip"
    return json.loads(gzip.decompress(raw))


ISO_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z")
PT_TS_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\+0000$")
CLF_RE = re.compile(r"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\]")


def parse_iso(s: str) -> int:
    d = dt.datetime.strptime(s.replace("Z", "+0000"),
                             "%Y-%m-%dT%H:%M:%S.%f%z" if "." in s else "%Y-%m-%dT%H:%M:%S%z")
    return round(d.timestamp() * 1000)


def parse_any_time(v) -> int:
    if isinstance(v, int):
        return v
    m = PT_TS_RE.match(v)
    if m:
        d = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=dt.timezone.utc)
        return int(d.timestamp()) * 1000 + int(m.group(2))
    if CLF_RE.match(f"[{v}]"):
        return int(dt.datetime.strptime(v, "%d/%b/%Y:%H:%M:%S %z").timestamp()) * 1000
    return parse_iso(v)


def message_times(msg: str) -> list[int]:
    """Every time the message itself states, for the timestamp == message-time check."""
    s = msg.rstrip("\n")
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            found = []
            for key in ("eventTime", "time", "timestamp", "requestTime"):
                if key in obj:
                    found.append(parse_any_time(obj[key]))
                    break
            inner = obj.get("message")
            if isinstance(inner, dict) and "timestamp" in inner:
                found.append(parse_any_time(inner["timestamp"]))
            return found
    if s.startswith("2 ") and s.endswith((" OK", " NODATA", " SKIPDATA")):
        return [int(s.split()[10]) * 1000]
    m = CLF_RE.search(s)
    if m:
        return [parse_any_time(m.group(1))]
    m = re.match(r"^(?:\[[A-Z]+\]\t)?(" + ISO_RE.pattern + r")[\t ]", s)
    if m:
        return [parse_iso(m.group(1))]
    return []


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


ALLOWED_IP = re.compile(r"^(10\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|0\.0\.0\.0$|127\.)")


def check_content(name: str, messages: list[str], problems: list[str]):
    for msg in messages:
        for ip in re.findall(r"(?<![\w./:#-])((?:\d{1,3}\.){3}\d{1,3})(?![\w.])", msg):
            if not ALLOWED_IP.match(ip):
                problems.append(f"{name}: non-documentation IP {ip}")
        # accidental card numbers / SSNs that are not planted
        for m in re.finditer(r"(?<![\d.])(?:(?:\d{4}[ -]){3}\d{1,7}|\d{13,19})(?![\d.])", msg):
            digits = re.sub(r"\D", "", m.group(0))
            if digits[0] in "3456" and luhn_ok(digits) and m.group(0).strip() != CARD_NUMBER:
                problems.append(f"{name}: accidental Luhn-valid number {m.group(0)!r}")
        for m in re.finditer(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", msg):
            if m.group(0) != SSN:
                problems.append(f"{name}: accidental SSN-like {m.group(0)!r}")
        for m in re.finditer(r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b", msg):
            key = m.group(0)
            if name != "cloudtrail.json" and key not in (AWS_ACCESS_KEY_ID, AWS_DOC_EXAMPLE_KEY):
                problems.append(f"{name}: unexpected AWS key id {key}")


def security_events(messages):
    """(ms, event) for every app security event, in any of the three forms."""
    out = []
    for ts, msg in messages:
        s = msg.rstrip("\n")
        if not s.startswith("{"):
            continue
        obj = json.loads(s)
        if obj.get("eventType") == "security":
            out.append((ts, obj))
        elif isinstance(obj.get("message"), dict) and obj["message"].get("eventType") == "security":
            out.append((ts, obj["message"]))
    return out


def span(times):
    return f"{iso_ms(min(times))} .. {iso_ms(max(times))} ({(max(times) - min(times)) / 1000:.1f} s)"


def verify_secrets():
    # GitHub checksum, Luhn, IBAN mod-97, JWT decodes, AWS key alphabet
    b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    body, check = GITHUB_PAT[4:-6], GITHUB_PAT[-6:]
    assert re.fullmatch(r"ghp_[A-Za-z0-9]{36}", GITHUB_PAT)
    assert sum(b62.index(c) * 62 ** i for i, c in enumerate(reversed(check))) == \
        binascii.crc32(body.encode())
    assert luhn_ok(CARD_NUMBER.replace(" ", ""))
    iban = IBAN.replace(" ", "")
    assert int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
    hdr, payload, sig = JWT.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    assert json.loads(base64.urlsafe_b64decode(pad(hdr)))["alg"] == "HS256"
    claims = json.loads(base64.urlsafe_b64decode(pad(payload)))
    assert claims["sub"] == "u-1042"
    assert base64.urlsafe_b64encode(hmac.new(b"logwarden-fake-signing-key",
                                             f"{hdr}.{payload}".encode(), "sha256").digest()
                                    ).rstrip(b"=").decode() == sig
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", AWS_ACCESS_KEY_ID) and "EXAMPLE" not in \
        AWS_ACCESS_KEY_ID
    assert re.fullmatch(r"[A-Za-z0-9/+]{40}", AWS_SECRET_ACCESS_KEY)
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{24,}", STRIPE_LIVE_KEY)
    assert re.fullmatch(r"sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}", OPENAI_KEY)
    assert re.fullmatch(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", SENDGRID_KEY)
    assert base64.b64decode(BASIC_AUTH_B64).decode() == BASIC_CREDENTIALS
    der = base64.b64decode("".join(EC_KEY_BODY))
    assert der[:2] == b"\x30\x77" and len(der) == 121
    assert SSN != "078-05-1120" and not SSN.startswith(("000", "666", "9"))
    assert all("\n" not in s and s.strip() == s and s for s in PLANTED_SECRETS)
    assert set(PLANTED_SECRETS) == set(PLANTED_WHERE)


def main() -> int:
    verify_secrets()
    builders = [
        ("api-powertools.json", make_api_powertools),
        ("node-worker.json", make_node_worker),
        ("node-worker-json-logs.json", make_node_json_logs),
        ("python-etl.json", make_python_etl),
        ("cloudtrail.json", make_cloudtrail),
        ("waf.json", make_waf),
        ("vpc-flow.json", make_vpc_flow),
        ("api-gateway.json", make_api_gateway),
        ("control-message.json", make_control),
    ]
    SAMPLES.mkdir(parents=True, exist_ok=True)
    (SAMPLES / "local").mkdir(exist_ok=True)
    written = {}
    for name, build in builders:
        text = lambda_event(build())
        (SAMPLES / name).write_text(text)
        written[name] = text
    local = {"local/app.log": make_local_app_log(),
             "local/events.jsonl": make_local_events_jsonl()}
    for name, text in local.items():
        (SAMPLES / name).write_text(text)
    PLANTED_FILE.parent.mkdir(parents=True, exist_ok=True)
    PLANTED_FILE.write_text("\n".join(PLANTED_SECRETS) + "\n")

    # ---------------- decode-check everything that was written ----------------
    problems: list[str] = []
    decoded: dict[str, list[tuple[int, str]]] = {}
    summary = []
    for name, _ in builders:
        text = (SAMPLES / name).read_text()
        assert text == written[name]
        payload = decode_lambda_event(text)
        ev = payload["logEvents"]
        raw_size = len(cj(payload).encode())
        if payload["messageType"] == "CONTROL_MESSAGE":
            assert payload["logGroup"] == "" and payload["logStream"] == "" and len(ev) == 1
            assert ev[0]["message"].startswith("CWL CONTROL MESSAGE:")
            summary.append((name, "(control)", len(ev), len(text), raw_size))
            continue
        assert payload["messageType"] == "DATA_MESSAGE" and payload["owner"] == ACCOUNT
        assert payload["subscriptionFilters"] == ["logwarden"]
        if payload["logGroup"].startswith("/aws/lambda/"):
            assert re.fullmatch(r"2026/11/25/\[\$LATEST\][0-9a-f]{32}", payload["logStream"])
        assert raw_size < 1_048_576, f"{name}: payload over 1 MB"
        ids = [e["id"] for e in ev]
        if len(set(ids)) != len(ids) or not all(re.fullmatch(r"[1-9]\d{55}", i) for i in ids):
            problems.append(f"{name}: bad or duplicate event ids")
        stamps = [e["timestamp"] for e in ev]
        if stamps != sorted(stamps):
            problems.append(f"{name}: events not in timestamp order")
        for e in ev:
            assert set(e) == {"id", "timestamp", "message"}
            if len(e["message"].encode()) > 256 * 1024:
                problems.append(f"{name}: event over 256 KB")
            for mt in message_times(e["message"]):
                if mt != e["timestamp"]:
                    problems.append(f"{name}: timestamp {e['timestamp']} != message time {mt}: "
                                    f"{e['message'][:80]!r}")
        if not 20 <= len(ev) <= 200:
            problems.append(f"{name}: {len(ev)} events, outside 20..200")
        decoded[name] = [(e["timestamp"], e["message"]) for e in ev]
        check_content(name, [e["message"] for e in ev], problems)
        summary.append((name, payload["logGroup"], len(ev), len(text), raw_size))
    for name, text in local.items():
        assert (SAMPLES / name).read_text() == text
        lines = text.splitlines()
        if name.endswith(".jsonl"):
            for ln in lines:
                json.loads(ln)
        check_content(name, lines, problems)
        decoded[name] = [(0, ln) for ln in lines]
        summary.append((name, "(plain file)", len(lines), len(text), len(text)))

    # planted values: present exactly where intended, nowhere else
    where = defaultdict(list)
    for name, evs in decoded.items():
        blob = "\n".join(m for _, m in evs)
        for s in PLANTED_SECRETS:
            if s in blob:
                where[s].append(name)
    for s, expected in PLANTED_WHERE.items():
        got = where.get(s, [])
        if got != ([expected] if expected else []):
            problems.append(f"planted {s[:24]!r}: expected in {expected}, found in {got}")
    ex_files = [n for n, evs in decoded.items() if any(AWS_DOC_EXAMPLE_KEY in m for _, m in evs)]
    if ex_files != ["node-worker.json"]:
        problems.append(f"{AWS_DOC_EXAMPLE_KEY} found in {ex_files}")
    for name in written:
        if name in decoded and "EXAMPLE" in "".join(m for _, m in decoded[name]).replace(
                AWS_DOC_EXAMPLE_KEY, ""):
            problems.append(f"{name}: stray EXAMPLE string")
    assert PLANTED_FILE.read_text().splitlines() == PLANTED_SECRETS

    # ---------------- bursts, recomputed from the decoded files ----------------
    bursts = []
    api = security_events(decoded["api-powertools.json"])
    by = defaultdict(list)
    for ts, e in api:
        d = e["details"]
        if e["type"] == "authentication_failed":
            by[("auth", d["sourceIp"])].append((ts, d["userId"]))
        elif e["type"] == "rate_limit_exceeded":
            by[("rate", d["userId"])].append((ts, d["sourceIp"]))
        elif e["type"] == "suspicious_activity":
            bursts.append(f"api-powertools: suspicious_activity {e['severity']} "
                          f"({d['reason']}) from {d['sourceIp']} at {iso_ms(ts)}")
    for (kind, key), items in sorted(by.items()):
        times = [x[0] for x in items]
        extra = (f", {len({x[1] for x in items})} distinct userIds" if kind == "auth" else "")
        bursts.append(f"api-powertools: {kind} {key}: {len(items)} events{extra}, {span(times)}")
    assert len(by[("auth", "203.0.113.7")]) == 12 and len(by[("auth", "192.0.2.44")]) == 3
    assert len(by[("rate", "u-1042")]) == 8 and len(by[("rate", "u-2001")]) == 2
    a = [x[0] for x in by[("auth", "203.0.113.7")]]
    r = [x[0] for x in by[("rate", "u-1042")]]
    assert max(a) - min(a) <= 240_000 and max(r) - min(r) <= 60_000
    assert len({x[1] for x in by[("auth", "203.0.113.7")]}) >= 6
    pwr = [m for _, m in decoded["api-powertools.json"] if '"eventType":"security"' in m
           and m.startswith('{"level"') and '"message":{' not in m]
    bursts.append(f"api-powertools: {len(pwr)} security event(s) in Powertools `extra=` form "
                  "(keys merged at top level)")

    tmo = [ts for ts, m in decoded["node-worker.json"] if "Task timed out after" in m]
    assert len(tmo) == 3 and max(tmo) - min(tmo) <= 300_000
    bursts.append(f"node-worker: 3 'Task timed out' lines, {span(tmo)}")
    crash = [ts for ts, m in decoded["node-worker.json"] if "Runtime.ExitError" in m
             and m.startswith("RequestId:")]
    assert len(crash) == 1
    bursts.append(f"node-worker: Runtime.ExitError (signal: killed) at {iso_ms(crash[0])}")
    jt = [ts for ts, m in decoded["node-worker-json-logs.json"] if '"status":"timeout"' in m
          and '"platform.runtimeDone"' in m]
    assert len(jt) == 1
    bursts.append(f"node-worker-json-logs: platform.runtimeDone status=timeout at {iso_ms(jt[0])}")

    ct = [(ts, json.loads(m)) for ts, m in decoded["cloudtrail.json"]]
    denied = defaultdict(list)
    for ts, rec in ct:
        code = rec.get("errorCode", "")
        if code.startswith("AccessDenied") or code.endswith("UnauthorizedOperation"):
            denied[rec["userIdentity"].get("arn")].append(ts)
    for arn, times in sorted(denied.items(), key=lambda kv: -len(kv[1])):
        bursts.append(f"cloudtrail: errorCode AccessDenied*/UnauthorizedOperation by {arn}: "
                      f"{len(times)}, {span(times)}")
    top = max(denied.values(), key=len)
    assert len(top) == 12 and max(top) - min(top) <= 300_000
    cis = check_cis(ct)
    for control, hits in cis.items():
        bursts.append(f"cloudtrail: {control}: {', '.join(hits) or 'NONE'}")
        if not hits:
            problems.append(f"cloudtrail: no record for {control}")

    waf = [(ts, json.loads(m)) for ts, m in decoded["waf.json"]]
    rb = [ts for ts, w in waf if w["terminatingRuleType"] == "RATE_BASED"
          and w["action"] == "BLOCK" and w["httpRequest"]["clientIp"] == "203.0.113.88"]
    assert len(rb) == 15 and max(rb) - min(rb) <= 300_000
    bursts.append(f"waf: RATE_BASED BLOCK 203.0.113.88: 15, {span(rb)}")
    sq = [w for _, w in waf if w["terminatingRuleType"] == "MANAGED_RULE_GROUP"]
    bursts.append(f"waf: managed SQLi BLOCK from {sq[0]['httpRequest']['clientIp']}; "
                  f"ALLOW records: {sum(w['action'] == 'ALLOW' for _, w in waf)}")

    scan = [m.split() for _, m in decoded["vpc-flow.json"]]
    sc = [f for f in scan if f[3] == "198.51.100.77"]
    assert all(f[12] == "REJECT" for f in sc) and len({f[6] for f in sc}) == 30
    s_start, s_end = min(int(f[10]) for f in sc), max(int(f[11]) for f in sc)
    assert s_end - s_start <= 120
    bursts.append(f"vpc-flow: 198.51.100.77 -> 10.0.1.25 REJECT, {len({f[6] for f in sc})} "
                  f"distinct dst ports, start {iso_ms(s_start * 1000)} .. end "
                  f"{iso_ms(s_end * 1000)}; NODATA/SKIPDATA: "
                  f"{sum(f[-1] in ('NODATA', 'SKIPDATA') for f in scan)}")

    ag = []
    for ts, m in decoded["api-gateway.json"]:
        if m.startswith("{"):
            o = json.loads(m)
            ag.append((ts, o["ip"], int(o["status"]), "json"))
        else:
            p = m.split()
            ag.append((ts, p[0], int(p[8]), "clf"))
    fails = [ts for ts, ip, st, _ in ag if ip == "203.0.113.66" and st in (401, 403)]
    assert len(fails) == 12 and max(fails) - min(fails) <= 300_000
    bursts.append(f"api-gateway: 401/403 from 203.0.113.66: 12, {span(fails)} "
                  f"({sum(f == 'clf' for *_, f in ag)} CLF + {sum(f == 'json' for *_, f in ag)} "
                  "JSON lines)")
    loc = [json.loads(m) for _, m in decoded["local/events.jsonl"]]
    la = [parse_iso(e["timestamp"]) for e in loc if e["type"] == "authentication_failed"
          and e["details"]["sourceIp"] == "203.0.113.9"]
    bursts.append(f"local/events.jsonl: authentication_failed 203.0.113.9: {len(la)}, {span(la)}")

    # ---------------- report ----------------
    print("files:")
    for name, group, n, size, raw in summary:
        print(f"  samples/{name:28s} {n:4d} events  {size:7d} B  (decoded {raw} B)  {group}")
    print(f"  {PLANTED_FILE.relative_to(ROOT)}  {len(PLANTED_SECRETS)} values")
    print("planted values:")
    for s in PLANTED_SECRETS:
        shown = s if len(s) <= 60 else s[:48] + "..." + s[-8:]
        print(f"  {', '.join(where.get(s, [])) or '(nowhere, decoded form)':28s} {shown}")
    print(f"negative: {AWS_DOC_EXAMPLE_KEY} in {', '.join(ex_files)}")
    print("bursts and event triggers:")
    for b in bursts:
        print("  " + b)
    if problems:
        print("PROBLEMS:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("decode-check: OK")
    return 0


def check_cis(ct):
    """Evaluate the CIS CloudWatch.1-14 metric-filter patterns on the decoded records."""
    def ev(rec, *names):
        return rec.get("eventName") in names

    controls = {
        "CloudWatch.1 root use": lambda r: r["userIdentity"].get("type") == "Root"
        and "invokedBy" not in r["userIdentity"] and r.get("eventType") != "AwsServiceEvent",
        "CloudWatch.2 unauthorized": lambda r: r.get("errorCode", "").endswith(
            "UnauthorizedOperation") or r.get("errorCode", "").startswith("AccessDenied"),
        "CloudWatch.3 no-MFA login": lambda r: ev(r, "ConsoleLogin")
        and (r.get("additionalEventData") or {}).get("MFAUsed") != "Yes"
        and r["userIdentity"].get("type") == "IAMUser"
        and (r.get("responseElements") or {}).get("ConsoleLogin") == "Success",
        "CloudWatch.4 IAM policy": lambda r: ev(r, "DeleteGroupPolicy", "DeleteRolePolicy",
                                               "DeleteUserPolicy", "PutGroupPolicy",
                                               "PutRolePolicy", "PutUserPolicy", "CreatePolicy",
                                               "DeletePolicy", "CreatePolicyVersion",
                                               "DeletePolicyVersion", "AttachRolePolicy",
                                               "DetachRolePolicy", "AttachUserPolicy",
                                               "DetachUserPolicy", "AttachGroupPolicy",
                                               "DetachGroupPolicy"),
        "CloudWatch.5 CloudTrail": lambda r: ev(r, "CreateTrail", "UpdateTrail", "DeleteTrail",
                                               "StartLogging", "StopLogging"),
        "CloudWatch.6 console auth failure": lambda r: ev(r, "ConsoleLogin")
        and r.get("errorMessage") == "Failed authentication",
        "CloudWatch.7 KMS": lambda r: r["eventSource"] == "kms.amazonaws.com"
        and ev(r, "DisableKey", "ScheduleKeyDeletion"),
        "CloudWatch.8 S3 policy": lambda r: r["eventSource"] == "s3.amazonaws.com"
        and ev(r, "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
               "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
               "DeleteBucketLifecycle", "DeleteBucketReplication"),
        "CloudWatch.9 Config": lambda r: r["eventSource"] == "config.amazonaws.com"
        and ev(r, "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
               "PutConfigurationRecorder"),
        "CloudWatch.10 SG": lambda r: ev(r, "AuthorizeSecurityGroupIngress",
                                        "AuthorizeSecurityGroupEgress",
                                        "RevokeSecurityGroupIngress",
                                        "RevokeSecurityGroupEgress", "CreateSecurityGroup",
                                        "DeleteSecurityGroup"),
        "CloudWatch.11 NACL": lambda r: ev(r, "CreateNetworkAcl", "CreateNetworkAclEntry",
                                          "DeleteNetworkAcl", "DeleteNetworkAclEntry",
                                          "ReplaceNetworkAclEntry",
                                          "ReplaceNetworkAclAssociation"),
        "CloudWatch.12 gateway": lambda r: ev(r, "CreateCustomerGateway",
                                             "DeleteCustomerGateway", "AttachInternetGateway",
                                             "CreateInternetGateway", "DeleteInternetGateway",
                                             "DetachInternetGateway"),
        "CloudWatch.13 route": lambda r: ev(r, "CreateRoute", "CreateRouteTable",
                                           "ReplaceRoute", "ReplaceRouteTableAssociation",
                                           "DeleteRouteTable", "DeleteRoute",
                                           "DisassociateRouteTable"),
        "CloudWatch.14 VPC": lambda r: ev(r, "CreateVpc", "DeleteVpc", "ModifyVpcAttribute",
                                         "AcceptVpcPeeringConnection",
                                         "CreateVpcPeeringConnection",
                                         "DeleteVpcPeeringConnection",
                                         "RejectVpcPeeringConnection", "AttachClassicLinkVpc",
                                         "DetachClassicLinkVpc", "DisableVpcClassicLink",
                                         "EnableVpcClassicLink"),
    }
    out = {}
    for control, pred in controls.items():
        hits = [f"{r['eventName']}@{r['eventTime'][11:19]}" for _, r in ct if pred(r)]
        if control.startswith("CloudWatch.2"):
            hits = [f"{len(hits)} records"]
        out[control] = hits
    return out


if __name__ == "__main__":
    sys.exit(main())

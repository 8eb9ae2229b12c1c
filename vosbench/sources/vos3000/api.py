"""A client for the VOS3000 Web API (manual V2.1.9.07, section "external server").

Every call is ``POST {url}/external/server/<Name>`` with a UTF-8 JSON body; the reply is
JSON with ``retCode`` (0 = OK) and ``exception``. A non-zero ``retCode`` raises
:class:`ApiError` carrying both. Network failures and HTTP 5xx are retried with
exponential backoff, except for Pay, the one call that moves money: it is sent once, and
when it may have reached the switch without an answer coming back it raises
:class:`PayOutcomeUnknown`, never a second Pay; a rate limit spaces calls so a production switch is not hammered;
queries over long intervals are split into windows (and a window the server still finds
too long, ``-10033``, is halved and asked again).

Request times are the server's local time: ``yyyyMMddHHmmss`` for payment and
consumption queries, ``yyyyMMdd`` for daily reports. Reply times are epoch milliseconds.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta

from vosbench.core.errors import VosbenchError

INTERVAL_TOO_LARGE = -10033


class ApiError(VosbenchError, RuntimeError):
    """VOS3000 refused a call: ``code`` is its retCode, ``text`` its exception message."""

    def __init__(self, call: str, code: int, text: str):
        self.call, self.code, self.text = call, code, text
        super().__init__(f"VOS3000 {call} failed with retCode {code}: {text or '(no message)'}")


class ApiUnavailable(VosbenchError, RuntimeError):
    """The API could not be reached after all retries; the message says what was tried.

    ``maybe_acted`` is False when the switch cannot have acted on the request (the connection
    was refused, the name not found, an HTTP 4xx refused it), True when it may have (a
    timeout, a dropped connection, an HTTP 5xx the switch or a proxy answered with).
    """

    def __init__(self, message: str, *, maybe_acted: bool = True):
        super().__init__(message)
        self.maybe_acted = maybe_acted


class PayOutcomeUnknown(VosbenchError, RuntimeError):
    """Pay was sent and no answer came back: the money may have moved on the switch."""


class ReplyError(VosbenchError, RuntimeError):
    """A reply with retCode 0 whose records are not as the manual documents them (a field missing or of another
    type): nothing of the sync is written from it, and the message names the call, record and field."""

    def __init__(self, call: str, url: str, problem: str):
        super().__init__(f"VOS3000 {call}: {problem}; the reply is not as the Web API manual documents it: check that "
                         f"{url} is the VOS3000 Web API (V2.1.x) and that the switch is not mid-upgrade")


_NUMBER: tuple[type, ...] = (int, float)
_TEXT: tuple[type, ...] = (str,)
_MILLISECONDS: tuple[type, ...] = (int,)
RECORD_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "infoCustomerBriefs": {"account": _TEXT},
    "infoCustomers": {"account": _TEXT},
    "infoPayHistorys": {"payTime": _MILLISECONDS, "fee": _NUMBER, "customerMoney": _NUMBER},
    "infoConsumptions": {"time": _MILLISECONDS, "money": _NUMBER},
    "infoReportCustomerFees": {"account": _TEXT, "beginTime": _MILLISECONDS, "totalFee": _NUMBER},
}
"""The fields the sync reads from every record of a list, and the JSON types each must have (never null)."""

OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "type": _MILLISECONDS, "payType": _MILLISECONDS, "cdrCount": _MILLISECONDS, "category": _MILLISECONDS,
    "money": _NUMBER, "limitMoney": _NUMBER, "name": _TEXT, "agentAccount": _TEXT, "memo": _TEXT}
"""Fields the sync reads where present: null or absent is allowed (and said where it matters), another type not."""


def _kind(types: tuple[type, ...]) -> str:
    return {_NUMBER: "a number", _TEXT: "text", _MILLISECONDS: "a whole number"}[types]


_NOT_SENT = (ConnectionRefusedError, socket.gaierror)
"""Network failures that happen before a request leaves this machine."""


class Client:
    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 rate: float | None = 5.0, window_days: int = 7):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--url {url!r}: give the API's address as https://host:port")
        if window_days < 1:
            raise ValueError(f"--window-days {window_days}: give at least 1")
        self.url = url.rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.interval = 1.0 / rate if rate else 0.0
        self.window = timedelta(days=window_days)
        self._last_call = 0.0

    def call(self, name: str, body: dict, *, retry: bool = True) -> dict:
        """One API call; returns the reply (retCode 0) or raises. ``retry``: False sends it only once."""
        request = urllib.request.Request(f"{self.url}/external/server/{name}",
                                         data=json.dumps(body).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        problem, maybe_acted = "", False
        for attempt in range(self.retries + 1 if retry else 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            wait = self._last_call + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_call = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    reply = json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                problem = f"HTTP {error.code}"
                if error.code < 500:  # refused as asked: nothing was done
                    break
                maybe_acted = True
                continue
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                problem, maybe_acted = str(reason), maybe_acted or not isinstance(reason, _NOT_SENT)
                continue
            except json.JSONDecodeError:
                raise ApiUnavailable(f"{name}: the reply is not JSON; is {self.url} the VOS3000 Web API?") from None
            code = int(reply.get("retCode", -1))
            if code != 0:
                raise ApiError(name, code, str(reply.get("exception") or ""))
            return reply
        raise ApiUnavailable(f"{name} at {self.url}: {problem} after {attempt + 1} attempt(s); check the "
                             "URL, the network and that the Web API is enabled", maybe_acted=maybe_acted)

    # --- accounts -----------------------------------------------------------------------------

    def records(self, name: str, reply: dict, field: str) -> list[dict]:
        """The list ``field`` of ``name``'s ``reply`` (none when absent or null), each record checked against
        :data:`RECORD_FIELDS` and :data:`OPTIONAL_FIELDS`, or :class:`ReplyError` naming the first that is not."""
        items = reply.get(field)
        if items is None:
            return []
        if not isinstance(items, list):
            raise ReplyError(name, self.url, f"{field} is {type(items).__name__}, not a list of records")
        for number, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise ReplyError(name, self.url, f"{field} record {number} is {type(item).__name__}, not a record")
            for key, types in RECORD_FIELDS[field].items():
                value = item.get(key)
                if value is None or isinstance(value, bool) or not isinstance(value, types):
                    said = "has no" if value is None else f"holds {json.dumps(value)[:40]} as"
                    raise ReplyError(name, self.url, f"{field} record {number} {said} {key} ({_kind(types)} expected)")
            for key, value in item.items():
                optional = OPTIONAL_FIELDS.get(key)
                if optional and value is not None and (isinstance(value, bool) or not isinstance(value, optional)):
                    raise ReplyError(name, self.url, f"{field} record {number} holds {json.dumps(value)[:40]} as {key} "
                                                     f"({_kind(optional)} or null expected)")
        return items

    def all_customers(self) -> list[dict]:
        """GetAllCustomers type 1: every account with money and limitMoney."""
        return self.records("GetAllCustomers", self.call("GetAllCustomers", {"type": 1}), "infoCustomerBriefs")

    def customers(self, accounts: list[str]) -> list[dict]:
        """GetCustomer for ``accounts`` (asked 100 at a time)."""
        found = []
        for start in range(0, len(accounts), 100):
            found += self.records("GetCustomer", self.call("GetCustomer", {"accounts": accounts[start:start + 100]}),
                                  "infoCustomers")
        return found

    def customers_of_agent(self, agent: str, *, direct_only: bool = False) -> list[dict]:
        """GetCustomer with filterAgentAccount: an agent's accounts (querySonMode 1: direct only)."""
        body = {"filterAgentAccount": {"filterAgentAccount": agent, "querySonMode": 1 if direct_only else 0}}
        return self.records("GetCustomer", self.call("GetCustomer", body), "infoCustomers")

    # --- records over time --------------------------------------------------------------------

    def pay_history(self, begin: datetime, end: datetime, *, account: str = "", agent: str = "") -> list[dict]:
        """GetPayHistory between two local times (split into windows)."""
        return self._over_time("GetPayHistory", "infoPayHistorys", begin, end, _who(account, agent))

    def consumption(self, begin: datetime, end: datetime, *, account: str = "", agent: str = "") -> list[dict]:
        """GetConsumption between two local times (split into windows)."""
        return self._over_time("GetConsumption", "infoConsumptions", begin, end, _who(account, agent))

    def _over_time(self, name: str, field: str, begin: datetime, end: datetime, who: dict) -> list[dict]:
        found, window, start = [], self.window, begin
        while start < end:
            stop = min(start + window, end)
            try:
                reply = self.call(name, {**who, "beginTime": f"{start:%Y%m%d%H%M%S}",
                                         "endTime": f"{stop:%Y%m%d%H%M%S}"})
            except ApiError as error:
                if error.code == INTERVAL_TOO_LARGE and window > timedelta(hours=1):
                    window /= 2
                    continue
                raise
            found += self.records(name, reply, field)
            start = stop
        return found

    def report_customer_fee(self, accounts: list[str], first: date, last: date) -> list[dict]:
        """GetReportCustomerFee, daily (period 1), for the days ``first``..``last``."""
        found, day = [], first
        span = max(self.window.days, 1)
        while day <= last:
            until = min(day + timedelta(days=span - 1), last)
            for start in range(0, len(accounts), 100):
                found += self.records("GetReportCustomerFee", self.call("GetReportCustomerFee", {
                    "accounts": accounts[start:start + 100], "period": 1, "beginTime": f"{day:%Y%m%d}",
                    "endTime": f"{until:%Y%m%d}"}), "infoReportCustomerFees")
            day = until + timedelta(days=1)
        return found

    # --- the one write ------------------------------------------------------------------------

    def pay(self, account: str, money: str, memo: str = "", *, confirm: bool = False) -> dict:
        """Pay: record a deposit of ``money`` (decimal text) on VOS3000 — real money moves.

        Refused unless ``confirm`` is True. Returns ``infoPay`` {account, money (new
        balance), validTime, payMoney}. Sent once: a Pay repeated after a lost answer would
        pay twice. When it may have reached the switch without an answer (a timeout, a
        dropped connection, HTTP 5xx), :class:`PayOutcomeUnknown` says not to pay again.
        """
        if not confirm:
            raise ValueError("Pay moves real money on the switch; call it with confirm=True (CLI: --confirm)")
        body = {"ownerName": account, "ownerType": 2, "money": money, "memo": memo}
        try:
            return self.call("Pay", body, retry=False).get("infoPay", {})
        except ApiUnavailable as error:
            if not error.maybe_acted:
                raise ApiUnavailable(f"{error}; nothing was paid") from None
            raise PayOutcomeUnknown(
                f"Pay {money} to {account} was sent but no answer came back ({error}): the deposit may have "
                "moved on the switch. Do not pay it again: run `vosbench sync vos3000-api`, which brings the "
                "switch's record of it in if it landed, or look at the account in VOS3000 first") from None


def _who(account: str, agent: str) -> dict:
    if bool(account) == bool(agent):
        raise ValueError("give either account or agent")
    return {"account": account} if account else {"agentAccount": agent}

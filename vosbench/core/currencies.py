"""The currencies of money vosbench knows: ISO 4217 codes and the decimals each one's amounts have.

An approval threshold, like any amount a person sets for a currency, is only meaningful in
a currency people pay in, and to no more places than that currency has: a yen has no
fraction, a Kuwaiti dinar three places. The table is ISO 4217's list one (as published in
2025, including the Caribbean guilder XCG and the new Zimbabwe gold ZWG) without the codes
that are not a currency of payment: precious metals (XAU, XAG, XPT, XPD), the testing and
"no currency" codes (XTS, XXX), the IMF's and other units of account (XDR, XSU, XUA,
XBA–XBD) and the fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW).

Every amount vosbench keeps has :data:`vosbench.core.money.SCALE` places; a currency's own
decimals limit what a person may write for it (:func:`check_places`) and are the fewest an amount
of it is shown with (:func:`format_amount`).
"""

from __future__ import annotations

from decimal import Decimal

from vosbench.core import money

_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF "
    "CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF "
    "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR "
    "MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD "
    "SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG "
    "YER ZAR ZMW ZWG")

DECIMALS: dict[str, int] = {code: places for places, codes in ((0, _NO_DECIMALS), (2, _TWO_DECIMALS),
                                                               (3, _THREE_DECIMALS)) for code in codes.split()}
"""ISO 4217 code → the decimal places of its minor unit, for every currency of money."""


class CurrencyError(money.MoneyError):
    """A currency code that is no currency of money, or an amount finer than its currency's minor unit."""


def decimals(code: str, *, field: str = "currency") -> int:
    """The decimal places of ``code``'s minor unit; refuses a code that is not an ISO 4217 currency of money."""
    places = DECIMALS.get(code)
    if places is None:
        raise CurrencyError(f"{field} {code!r} is not an ISO 4217 currency of money (metals, funds and test codes "
                            "such as XAU or XXX are not); give its 3 capital letters, e.g. USD, EUR or JPY")
    return places


def check_places(minor: int, code: str, *, field: str = "amount") -> int:
    """``minor`` (minor units at :data:`~vosbench.core.money.SCALE`) when it has no more decimals than ``code``
    allows; refused naming the value and the currency's places otherwise."""
    places = decimals(code)
    step = 10 ** (money.SCALE - places)
    if minor % step:
        allowed = "no decimals" if places == 0 else f"{places} decimal place{'s' if places > 1 else ''}"
        kept = money.to_decimal(minor - minor % step).quantize(Decimal(1).scaleb(-places))
        raise CurrencyError(f"{field} {money.to_decimal(minor).normalize():f}: {code} amounts have {allowed}; "
                            f"give e.g. {kept}")
    return minor


def format_amount(minor: int, code: str) -> str:
    """``minor`` as an amount of ``code`` reads: with the currency's own places (5,000 yen, 1.500 dinars, 12.50
    dollars) or as many more as the amount has, never rounded; two places for a code that is no currency of money
    (an imported account's currency is taken as its source wrote it)."""
    return money.format_money(minor, fewest=DECIMALS.get(code, 2))

"""Plausible account names, with near-duplicates on purpose.

Customers of a VoIP wholesaler are small carriers, call centres, call shops and
individuals. Names are not unique keys (account numbers are); some pairs differ by one
letter, a space or a legal suffix, which is what makes a wrong-account deposit an easy
mistake for an operator typing a name into the search box.
"""

from __future__ import annotations

import random

_STEMS = (
    "Al Noor", "Falcon", "Gulf Star", "Horizon", "Blue Wave", "Desert Rose", "Emirates Link",
    "Crescent", "Oasis", "Silverline", "Atlas", "Orient", "Zenith", "Pioneer", "Sahara", "Pearl",
    "Royal Palm", "Nile Valley", "Indus", "Lotus", "Golden Gate", "Red Sea", "Summit", "Al Baraka",
    "Skyway", "Meridian", "Coral", "Evergreen", "Unity", "Delta", "Apex", "Vertex", "Sunrise",
    "Al Safa", "Marina", "Phoenix", "Cedar", "Jasmine", "Everest", "Kilimanjaro", "Baltic",
    "Crystal", "Bridgeway", "Northstar", "Saffron", "Tigris", "Euphrates", "Zamzam", "Harbour",
)
_TRADES = (
    "Telecom", "Communications", "Call Centre", "Voice", "Networks", "Connect", "Telecom Services",
    "Tel", "Global Voice", "Calling", "Phone Centre", "Business Services", "IT Solutions",
)
_SUFFIXES = ("LLC", "FZE", "FZCO", "Ltd", "Trading LLC", "DMCC", "General Trading", "")
_GIVEN = (
    "Ahmed", "Mohammed", "Fatima", "Aisha", "Omar", "Yusuf", "Maria", "Jose", "Rajesh", "Priya",
    "Sanjay", "Li", "Wei", "Chen", "John", "Grace", "Emeka", "Chinedu", "Hassan", "Layla", "Tariq",
    "Imran", "Nadia", "Samir", "Ravi", "Anita", "Joseph", "Ali", "Khalid", "Mariam", "Bilal",
)
_FAMILY = (
    "Khan", "Santos", "Kumar", "Nair", "Wang", "Okafor", "Haddad", "Rahman", "Hussain", "Sharma",
    "Reyes", "Mensah", "Al Mansoori", "Siddiqui", "Pereira", "Fernandes", "Abubakar", "Mwangi",
    "Ibrahim", "Qureshi", "Tan", "Lim", "Das", "Iyer", "Farouk", "Saleh", "Balogun", "Chaudhry",
)
_SPELLINGS = (("Noor", "Nour"), ("Centre", "Center"), ("Mohammed", "Mohamed"), ("Yusuf", "Yousef"),
              ("Communications", "Communication"), ("Harbour", "Harbor"), ("Tel", "Tell"))


def company_name(rng: random.Random) -> str:
    """A company such as 'Falcon Voice FZE'."""
    suffix = rng.choice(_SUFFIXES)
    return " ".join(part for part in (rng.choice(_STEMS), rng.choice(_TRADES), suffix) if part)


def person_name(rng: random.Random) -> str:
    """An individual or a call shop run by one, such as 'Rajesh Kumar'."""
    name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
    return f"{name} Call Shop" if rng.random() < 0.3 else name


def near_duplicate(name: str, rng: random.Random) -> str:
    """A different name that a hurried operator could take for ``name``."""
    for plain, variant in _SPELLINGS:
        if plain in name.split():
            return name.replace(plain, variant, 1)
    words = name.split()
    for suffix in ("Trading LLC", "LLC", "FZE", "FZCO", "Ltd", "DMCC"):
        if name.endswith(" " + suffix):
            other = rng.choice([s for s in ("LLC", "FZE", "FZCO", "Ltd") if s != suffix])
            return f"{name[: -len(suffix) - 1]} {other}"
    if len(words) >= 2:  # 'Blue Wave Telecom' -> 'BlueWave Telecom'
        return " ".join([words[0] + words[1], *words[2:]])
    return name + " Co"

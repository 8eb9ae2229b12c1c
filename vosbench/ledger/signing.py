"""Ed25519-signed checkpoints: receipts anyone can check with a public key, and only the key's holder can make.

The HMAC mode (:func:`vosbench.ledger.anchor.seal`) is symmetric: whoever can check a
receipt can also make one, so its key must stay with the auditor. An Ed25519 key pair
splits the two: the private key (kept off the ledger's machine, e.g. with whoever
closes months) signs each close receipt, evidence anchor and archive manifest; the public
key, which may be handed to anyone, checks them and cannot make new ones.

Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public) made by
``vosbench keygen``; a signature is ``{"algorithm": "ed25519", "key_id", "value"}`` over
the document's canonical JSON without its seals, ``key_id`` being the first 16 hex digits
of the public key's sha256 (it names the key, it proves nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vosbench.core.errors import VosbenchError

if TYPE_CHECKING:  # cryptography is loaded only where a key is used: `verify` of a ledger with no key needs none
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_MARK = b"-----BEGIN PRIVATE KEY-----"
PUBLIC_MARK = b"-----BEGIN PUBLIC KEY-----"


class SigningError(VosbenchError, ValueError):
    """A key file that cannot be used for signing or checking; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key: the public half always, the private half when this side signs."""

    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    @property
    def key_id(self) -> str:
        from cryptography.hazmat.primitives import serialization

        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, text: str) -> dict:
        if self.private is None:
            raise SigningError("a public key checks signatures but cannot make them; give the private key "
                               "(--key-file PRIVATE.pem) to close, seal or archive")
        return {"algorithm": "ed25519", "key_id": self.key_id,
                "value": self.private.sign(text.encode("utf-8")).hex()}

    def problem(self, text: str, signature, source: str) -> str | None:
        """Why ``signature`` does not sign ``text`` with this key, or None when it does."""
        if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
            return f"{source} carries no Ed25519 signature: it proves only what its holder could also have written"
        if signature.get("key_id") != self.key_id:
            return (f"{source} is signed with key {signature.get('key_id')!r}, not with the key given "
                    f"({self.key_id})")
        from cryptography.exceptions import InvalidSignature

        try:
            self.public.verify(bytes.fromhex(str(signature.get("value"))), text.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return f"{source}: its Ed25519 signature does not match (the document was altered after it was signed)"
        return None


def is_pem(data: bytes) -> bool:
    return data.lstrip().startswith((PRIVATE_MARK, PUBLIC_MARK))


def from_pem(data: bytes, source: str) -> SigningKey:
    """The key in PEM ``data`` (private or public)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    try:
        if data.lstrip().startswith(PRIVATE_MARK):
            private = serialization.load_pem_private_key(data, password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise SigningError(f"{source} is not an Ed25519 key; make one with `vosbench keygen`")
            return SigningKey(private.public_key(), private)
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise SigningError(f"{source} cannot be read as a PEM key ({error}); make one with `vosbench keygen`") from None
    if not isinstance(public, Ed25519PublicKey):
        raise SigningError(f"{source} is not an Ed25519 key; make one with `vosbench keygen`")
    return SigningKey(public)


def generate(private_path: Path, public_path: Path) -> SigningKey:
    """Make a key pair: the private key written readable by its owner only, the public one beside it."""
    for path in (private_path, public_path):
        if Path(path).exists():
            raise SigningError(f"{path} exists already; a key is never overwritten (give another name)")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    Path(private_path).touch(mode=0o600)
    Path(private_path).write_bytes(pem)
    Path(public_path).write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return SigningKey(private.public_key(), private)

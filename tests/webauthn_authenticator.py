"""A software WebAuthn authenticator for the tests: makes the browser's answers to Roster's
passkey options (``navigator.credentials.create`` and ``.get``), with an ES256 (P-256) or
RS256 key, "none" attestation, user presence and verification, and a signature counter."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, algorithm: str = "ES256") -> None:
        self.algorithm = algorithm
        if algorithm == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif algorithm == "RS256":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise ValueError(algorithm)
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = b""

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        if self.algorithm == "ES256":
            return cbor2.dumps(
                {
                    1: 2,
                    3: -7,
                    -1: 1,
                    -2: numbers.x.to_bytes(32, "big"),
                    -3: numbers.y.to_bytes(32, "big"),
                }
            )
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return cbor2.dumps({1: 3, 3: -257, -1: n, -2: e})

    def _sign(self, data: bytes) -> bytes:
        if self.algorithm == "ES256":
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    @staticmethod
    def _client_data(kind: str, options: dict, origin: str) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": options["challenge"],
                "origin": origin,
                "crossOrigin": False,
            }
        ).encode()

    def create(
        self, options_json: str, *, origin: str, rp_id: str | None = None, verified: bool = True
    ) -> str:
        """The answer to creation options: a new credential ("none" attestation)."""
        options = json.loads(options_json)
        rp_id = rp_id or options["rp"]["id"]
        self.user_handle = b64url_decode(options["user"]["id"])
        flags = 0x01 | (0x04 if verified else 0) | 0x40  # user present, verified, attested data
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + self.sign_count.to_bytes(4, "big")
            + bytes(16)  # AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(self._client_data("webauthn.create", options, origin)),
                    "attestationObject": b64url(attestation),
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self,
        options_json: str,
        *,
        origin: str,
        rp_id: str | None = None,
        verified: bool = True,
        counter_step: int = 1,
    ) -> str:
        """The answer to request options: an assertion signed by this credential, its
        counter moved by ``counter_step`` (0 or less: a cloned key's)."""
        options = json.loads(options_json)
        rp_id = rp_id or options["rpId"]
        self.sign_count += counter_step
        flags = 0x01 | (0x04 if verified else 0)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + max(self.sign_count, 0).to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", options, origin)
        signature = self._sign(auth_data + hashlib.sha256(client_data).digest())
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )

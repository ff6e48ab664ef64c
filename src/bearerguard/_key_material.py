"""Key material given as text or as the path of a file: PEM text or a JSON value.

The settings that take keys (``keys=``, ``decryption_keys=``) accept a PEM key, a JWK or a
JWK Set as a ``str`` or ``bytes``, its JSON text, or the path of a file holding any of
them. :class:`KeyMaterial` reads one such value the same way for each: a file read is
bounded, a name that is no file is told apart from a file that cannot be read, and a
string that could be key material is never repeated in a message.

Example::

    PUBLIC_KEYS = KeyMaterial("keys", "keys='keys/tenant.pem'", shows_path=lambda text: True)
    PUBLIC_KEYS.loaded("keys/tenant.pem", "keys")   # '-----BEGIN PUBLIC KEY-----...'
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ._errors import ConfigurationError

__all__ = ["KeyMaterial", "load_private_pem", "looks_like_a_path"]


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """How one setting reads its key material.

    ``setting`` names the setting in errors; ``example`` is what a message suggests writing;
    ``shows_path`` says whether a string that is neither PEM nor JSON may be repeated as the
    path it names (it could be key material); ``private`` is for a setting of private keys
    (its messages ask for the private key, its DER hint converts a private key);
    ``max_bytes`` bounds a file read.

    Example::

        KeyMaterial("keys", "keys='keys/tenant.pem'", shows_path=lambda text: False)
    """

    setting: str
    example: str
    shows_path: Callable[[str], bool]
    private: bool = False
    max_bytes: int = 1 << 20

    def loaded(self, value: object, where: str) -> object:
        """PEM text (a str holding a ``-----BEGIN``), or a JSON value; anything else as given.

        ``where`` names the value in messages (the setting, or one item of it).
        """
        if isinstance(value, os.PathLike):
            return self._text(self._read_file(Path(value), where, shown=True), where)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._text(bytes(value), where)
        if isinstance(value, str):
            text = value.strip()
            if "-----BEGIN" in text or text.startswith(("{", "[")):
                return self._text(text.encode("utf-8", "surrogatepass"), where)
            if not text:
                raise ConfigurationError(
                    f"{where} is an empty string (an unset environment variable?); write e.g. "
                    f"{self.example}.",
                    setting=self.setting,
                )
            # A string that is no PEM and no JSON is a path; shown only if it looks like one.
            shown = self.shows_path(text)
            return self._text(self._read_file(Path(text), where, shown=shown), where)
        return value

    def _read_file(self, path: Path, where: str, *, shown: bool) -> bytes:
        """The file's bytes: a string that names no file is told apart from one that cannot
        be read, and a string that is not shown as a path (it could be key material) is not
        repeated."""
        named = f"the file {str(path)!r}" if shown else "a string that is neither PEM nor JSON"
        key = "private key" if self.private else "key"
        try:
            with path.open("rb") as file:
                data = file.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise ConfigurationError(
                f"{where} names {named}, and no such file exists: give the path of a PEM or "
                f"JSON key file, or the {key} itself (PEM text, a JWK or JWK Set).",
                setting=self.setting,
            ) from None
        except (OSError, ValueError) as exc:  # a directory, no permission, a NUL in the path
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigurationError(
                f"{where} names {named}, which cannot be read ({why}).", setting=self.setting
            ) from None
        if len(data) > self.max_bytes:
            raise ConfigurationError(
                f"{where} names {named}, which is larger than {self.max_bytes} bytes: a key "
                "file holds a few keys.",
                setting=self.setting,
            )
        return data

    def _text(self, data: bytes, where: str) -> object:
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            # openssl reads a DER private key as is, a DER public key only with -pubin
            pubin = "" if self.private else "-pubin "
            raise ConfigurationError(
                f"{where} is not PEM or JSON text (a DER file? write it as PEM: openssl pkey "
                f"{pubin}-inform DER -in key.der -out key.pem).",
                setting=self.setting,
            ) from None
        if "-----BEGIN" in text:
            return text
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            why = ""
            if isinstance(exc, json.JSONDecodeError):
                why = f" ({exc.msg} at character {exc.pos})"
            raise ConfigurationError(
                f"{where} is neither a PEM key nor valid JSON{why}.", setting=self.setting
            ) from None


def looks_like_a_path(text: str) -> bool:
    """Whether a string given for a private key, neither PEM nor JSON, may be repeated in a
    message as the path it names: short, with a ``/`` or ``.``, no space. Anything else
    could be key material pasted wrong, and is not shown."""
    return len(text) < 256 and ("/" in text or "." in text) and " " not in text


def load_private_pem(data: bytes, where: str, setting: str) -> object:
    """The private key of PEM ``data`` (``where`` names it in messages, ``setting`` is the
    setting they are about): an encrypted key, or one that cannot be read, is a
    :class:`ConfigurationError` saying what to do. The caller checks the key's type.

    Example::

        load_private_pem(Path("api.pem").read_bytes(), "decryption_keys", "decryption_keys")
    """
    try:
        return load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigurationError(
            f"{where} is an encrypted PEM private key: write it unencrypted (openssl pkey -in "
            "key.pem -out plain.pem), kept readable by the API alone.",
            setting=setting,
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigurationError(
            f"{where} is not a readable PEM private key.", setting=setting
        ) from None

"""Values of a Dataset's encrypt options, read from their Secrets when a mount needs them.

Secrets are read live (the client never caches them) and only at mount time, so a credential
never sits in an informer cache, a status or a config map.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from fluidpy.api.v1alpha1.common import EncryptOption
from fluidpy.client import SECRET
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.errors import EngineError


class SecretNotFound(EngineError):
    reason = "SecretNotFound"


def resolve(ctx: ReconcileRequestContext, options: Sequence[EncryptOption]) -> dict[str, str]:
    """Option name -> value. A missing Secret or key is an error naming both, retried with
    backoff (creating the Secret is what the user does next)."""
    values: dict[str, str] = {}
    cache: dict[str, dict[str, str]] = {}
    for option in options:
        reference = option.value_from.secret_key_ref if option.value_from else None
        if reference is None:
            raise SecretNotFound(f"encrypt option {option.name!r} names no secretKeyRef")
        if reference.name not in cache:
            secret = ctx.client.get(SECRET, reference.name, ctx.namespace, ctx=ctx.ctx)
            if secret is None:
                raise SecretNotFound(
                    f"Secret {ctx.namespace}/{reference.name} (encrypt option {option.name!r}) "
                    "does not exist; create it"
                )
            cache[reference.name] = secret.get("data") or {}
        key = reference.key or option.name
        encoded = cache[reference.name].get(key)
        if encoded is None:
            raise SecretNotFound(
                f"Secret {ctx.namespace}/{reference.name} has no key {key!r} "
                f"(encrypt option {option.name!r}); add it"
            )
        try:
            values[option.name] = base64.b64decode(encoded).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise SecretNotFound(
                f"Secret {ctx.namespace}/{reference.name} key {key!r} is not valid base64 text"
            ) from None
    return values

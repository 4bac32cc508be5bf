"""Secrets of the things AIMS connects to (connections, warehouses): named as an environment variable kept for
them, or stored encrypted. The rule for the variable's name keeps an Admin from having AIMS send one of the
server's own secrets to a host of their choosing."""

import functools
import importlib.util
import os
import re
from pathlib import Path

from django.conf import settings

from aimsweb.crypto import decrypt_secret, encrypt_secret

ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# A connection's secret may be read only from variables kept for connections, so an Admin cannot have AIMS send one
# of its own secrets (SECRET_KEY, DATABASE_URL, ...) to a host of their choosing.
CONNECTION_SECRET_PREFIX = "AIMS_CONN_"
# The server's own variables, refused even if one ever matched the prefix (defence in depth).
SERVER_SECRET_VARIABLES = frozenset(
    {
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "CHANNEL_LAYER_URL",
        "EMAIL_URL",
        "AIMS_ENCRYPTION_KEYS",
        "AIMS_LLM_API_KEY",
        "OPENAI_API_KEY",
    }
)
SETTINGS_VARIABLE = re.compile(r"""(?:env(?:\.\w+)?\(|environ(?:\.get)?[\[(])\s*f?["']([A-Z][A-Z0-9_]*)""")


@functools.cache
def settings_variable_names() -> frozenset[str]:
    """Every environment variable the settings modules read (a name ending in "_" is the fixed part of a family,
    such as AIMS_DEMO_PASSWORD_<ROLE>): found by reading their source, so a new setting is covered without a list
    to keep in step."""
    names: set[str] = set(SERVER_SECRET_VARIABLES)
    for module in {"aimsweb.settings", "aimsweb.settings_product", settings.SETTINGS_MODULE}:
        spec = importlib.util.find_spec(module)
        if spec and spec.origin:
            names.update(SETTINGS_VARIABLE.findall(Path(spec.origin).read_text()))
    return frozenset(names)


def secret_variable_problem(name: str) -> str:
    """Why `name` may not hold a connection's secret ("" when it may)."""
    if not ENV_VAR_NAME.match(name):
        return f"Use an environment variable name such as {CONNECTION_SECRET_PREFIX}ADF_SECRET."
    if not name.startswith(CONNECTION_SECRET_PREFIX) or len(name) == len(CONNECTION_SECRET_PREFIX):
        return (
            f"The variable name must start with {CONNECTION_SECRET_PREFIX} (e.g. {CONNECTION_SECRET_PREFIX}ADF_SECRET)."
        )
    server = settings_variable_names()
    if name in server or any(family.endswith("_") and name.startswith(family) for family in server):
        return "That variable holds one of AIMS's own settings; it cannot be a connection's secret."
    return ""


class EnvOrStoredSecret:
    """A secret named as an environment variable (`secret_env_var`, by the rule above) or stored encrypted
    (`secret_encrypted`): the model that mixes this in has both fields."""

    secret_env_var: str
    secret_encrypted: str

    @property
    def secret_source(self) -> str:
        if self.secret_env_var:
            return f"env:{self.secret_env_var}"
        return "stored (encrypted)" if self.secret_encrypted else "none"

    def set_secret(self, plaintext: str) -> None:
        """Store a new secret encrypted (an empty string clears it); the caller saves."""
        self.secret_encrypted = encrypt_secret(plaintext) if plaintext else ""

    def get_secret(self) -> str:
        """The secret in clear, for building a client; never for display. A variable name that breaks the rule
        (saved around the admin's validation) yields nothing rather than a server secret."""
        if self.secret_env_var:
            if secret_variable_problem(self.secret_env_var):
                return ""
            return os.environ.get(self.secret_env_var, "")
        return decrypt_secret(self.secret_encrypted) if self.secret_encrypted else ""

"""What can go wrong talking to Procore, as typed errors a controller can act on.

Every error is a :class:`~wip_lib.core.errors.ConnectorError` (so ``wip`` prints its message and exits
non-zero, never a traceback) and says what was asked, what Procore answered and what to do.
Rules:

- messages never carry the client secret or an access token, whatever Procore echoed back
  (:func:`scrub` removes any registered secret from text before it reaches a message);
- a 403 names the Procore tool whose permission the endpoint needs (:func:`tool_for`), since the
  fix is either connecting the app to the company or granting that tool to the service account.
"""
from __future__ import annotations

import re
import threading

from wip_lib.core.errors import ConnectorError

_SECRETS: set[str] = set()
_LOCK = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret (client secret, access token) so :func:`scrub` can remove it."""
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``****``."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, "****")
    return text


def mask(value: str | None) -> str:
    """A credential shown safely: the last four characters of an id, nothing of a short one."""
    if not value:
        return "(not set)"
    return "…" + value[-4:] if len(value) > 8 else "****"


# Endpoint pattern -> the Procore tool a service account needs (Read Only or higher).
_TOOLS: list[tuple[str, str]] = [
    (r"/companies$", "the company itself (the app must be installed in the company)"),
    (r"/projects$", "Portfolio / Project Directory (the service account must be on each project)"),
    (r"project_roles", "Project Directory"),
    (r"budget_view", "Budget"),
    (r"(work_order|purchase_order)_contracts", "Commitments"),
    (r"commitment_change_orders", "Commitments (change orders)"),
    (r"requisitions", "Commitments (subcontractor invoicing)"),
    (r"billing_periods", "Invoicing (billing periods)"),
    (r"prime_change_orders", "Prime Contracts (change orders)"),
    (r"payment_applications", "Prime Contracts (owner invoicing)"),
    (r"prime_contracts", "Prime Contracts"),
    (r"direct_costs", "Direct Costs"),
    (r"change_order/statuses", "Change Orders (company settings)"),
    (r"vendors", "Company Directory"),
    (r"cost_codes", "Admin (project cost codes)"),
    (r"line_item_types", "Admin (company cost types)"),
]


def tool_for(path: str) -> str:
    """The Procore tool whose permission ``path`` needs (for 403 messages)."""
    bare = path.split("?", 1)[0].rstrip("/")
    for pattern, tool in _TOOLS:
        if re.search(pattern, bare):
            return tool
    return "the tool this endpoint belongs to"


class ProcoreError(ConnectorError):
    """Base of the Procore connector's errors; ``endpoint`` is the path asked, if any."""

    def __init__(self, message: str, endpoint: str | None = None):
        self.endpoint = endpoint
        super().__init__(scrub(message))


class CredentialsError(ProcoreError):
    """401, or no credentials: the client id / secret are missing, wrong, or revoked."""


class PermissionDenied(ProcoreError):
    """403: the app is not connected to the company, or its service account lacks a tool."""

    def __init__(self, endpoint: str, company_id: int | str, procore_said: str = ""):
        self.tool = tool_for(endpoint)
        said = f" Procore said: {procore_said}." if procore_said else ""
        super().__init__(
            f"Procore refused GET {endpoint} for company {company_id} (403 Forbidden). Either the "
            f"app is not connected to this company (a company admin installs it under Company "
            f"Admin > App Management and adds its service account), or the service account lacks "
            f"permission on {self.tool}: give it Read Only or higher on that tool, in the company "
            f"and on the project.{said}", endpoint)


class NotFound(ProcoreError):
    """404: the company, project or object asked for does not exist (or is not visible)."""


class RateLimited(ProcoreError):
    """Procore kept answering 429 after the waits allowed."""


class ServerError(ProcoreError):
    """Procore (or the network) failed after every retry."""


class ResponseShapeError(ProcoreError):
    """Procore answered 200 with something that is not the JSON expected."""

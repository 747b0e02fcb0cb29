"""Procore REST API connector: pull a company's projects into the canonical tables.

- :mod:`.client`: OAuth2 client credentials, pagination, rate limits, retries (``ProcoreClient``).
- :mod:`.pull`: the endpoints read and how each becomes a canonical table (``pull``).
- :mod:`.budget`: budget views' display-named columns and snapshot periods.
- :mod:`.frames`: JSON records to typed tables, through the export readers' conversion.
- :mod:`.folder`: the pull written (and merged) as a company folder (``write_pull``).
- :mod:`.errors`: the typed errors (all :class:`~wip_lib.core.errors.ConnectorError`).

Setting up the service account and running ``wip pull-procore``: ``docs/procore-connector.md``.
"""
from wip_lib.sources.procore_api.client import Credentials, ProcoreClient
from wip_lib.sources.procore_api.errors import (
    CredentialsError,
    NotFound,
    PermissionDenied,
    ProcoreError,
    RateLimited,
    ResponseShapeError,
    ServerError,
)
from wip_lib.sources.procore_api.folder import FolderState, frozen_budgets, write_pull
from wip_lib.sources.procore_api.pull import PullResult, PullSpec, pull

__all__ = ["Credentials", "ProcoreClient", "PullSpec", "PullResult", "pull", "write_pull",
           "FolderState", "frozen_budgets", "ProcoreError", "CredentialsError",
           "PermissionDenied", "NotFound", "RateLimited", "ServerError", "ResponseShapeError"]

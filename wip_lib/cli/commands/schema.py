"""``wip schema``: print the canonical data model."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("schema", help="print the canonical data model (docs/data-model.md)")
    p.add_argument("--markdown", action="store_true", help="as Markdown (the default)")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.core import schema

    print(schema.to_markdown())
    return 0

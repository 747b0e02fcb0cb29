"""The sample company: a deterministic fictional general contractor (``wip sample``)."""
from wip_lib.sample.generate import SampleSpec, generate, write_sample

__all__ = ["SampleSpec", "generate", "write_sample"]

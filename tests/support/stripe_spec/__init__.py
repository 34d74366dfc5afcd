"""Stripe's API spec (a subset, in this folder) and the checks the test suite runs against it:
every request the gateway sends and every answer the emulator gives. See README.md."""

from .validate import check_answer, check_request

__all__ = ["check_answer", "check_request"]

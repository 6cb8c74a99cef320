"""Fixtures of the generation tests."""

from __future__ import annotations

import pytest
from analytic_fields import FIELDS


@pytest.fixture(scope="session")
def fields():
    """name -> field(points (N,3) float32) -> logits (N,) float32."""
    return FIELDS

"""What the tests share: fixtures' building blocks, the suite's constants and helpers, the test
tiers. Test modules import from here, from ``tests.fakes`` and from fixtures, never from another
test module."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

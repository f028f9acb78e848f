"""A tiny calculator package used as a coverage fixture."""

from calc.ops import add, divide, clamp
from calc.parse import parse_expr

__all__ = ["add", "divide", "clamp", "parse_expr"]

import pytest

from calc import add, clamp, divide, parse_expr
from calc.ops import describe, sign_only_positive


def test_add():
    assert add(2, 3) == 5


def test_divide():
    assert divide(6, 3) == 2


def test_clamp():
    assert clamp(-5, 0, 10) == 0
    assert clamp(5, 0, 10) == 5


def test_describe():
    assert describe(4) == "non-negative even"


def test_sign_only_positive():
    # only the true side of `if n > 0` is taken: a partial branch
    assert sign_only_positive(3) == 1


def test_parse():
    assert parse_expr("1 + 2") == 3
    with pytest.raises(ValueError):
        parse_expr("1 +")

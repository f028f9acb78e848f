"""Arithmetic helpers: some branches are taken, some are not."""


def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        # never exercised by the tests
        raise ZeroDivisionError("b must not be zero")
    return a / b


def clamp(value, low, high):
    if value < low:
        return low
    elif value > high:
        return high
    return value


def describe(n):
    # a statement split over several lines
    parts = [
        "negative" if n < 0 else "non-negative",
        "even" if n % 2 == 0 else "odd",
    ]
    return " ".join(
        parts
    )


def sign_only_positive(n):
    result = 0
    if n > 0:
        result = 1
    return result

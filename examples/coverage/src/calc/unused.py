"""Never imported by the tests: coverage.py reports it at 0%."""


def shout(text):
    if not text:
        return ""
    return text.upper() + "!"


class Greeter:
    def __init__(self, name):
        self.name = name

    def greet(self):
        return "hello " + self.name

from tests.contacts.conftest import key

__all__ = ["key"]

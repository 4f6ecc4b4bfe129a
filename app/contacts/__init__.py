"""Contacts: the contact read path, refs, filters (writes come with their use cases)."""

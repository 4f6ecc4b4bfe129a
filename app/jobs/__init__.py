"""Asynchronous work: the jobs queue, imports, profile exports, activity reports, downloads."""

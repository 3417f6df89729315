"""Cooperation Watcher: polls news sources for digital-cooperation articles and alerts subscribers."""

__version__ = "0.1.0"
USER_AGENT = f"CooperationWatcher/{__version__} (+https://github.com/cooperation-watcher)"

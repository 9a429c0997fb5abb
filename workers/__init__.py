"""Celery workers: analysis, comments, intake bookkeeping and the nightly report.

``celery -A workers worker`` and ``celery -A workers beat`` find ``app`` here.
"""

from workers.celery_app import app

__all__ = ["app"]

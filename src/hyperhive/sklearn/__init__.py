"""scikit-learn integration: :class:`SearchCV`, hyperhive's search as a search estimator.

Example:
    >>> from hyperhive.sklearn import SearchCV
"""

from __future__ import annotations

from hyperhive.sklearn.search import SearchCV

__all__ = ["SearchCV"]

"""hyperhive: massively parallel, asynchronous hyperparameter and neural architecture search."""

__version__ = "0.1.0"

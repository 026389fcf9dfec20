"""Callbacks that connect training frameworks to a running hyperhive trial.

- :mod:`hyperhive.integrations.lightning`: ``ReportCallback`` for PyTorch Lightning
  (extra ``lightning``).
- :mod:`hyperhive.integrations.keras`: ``ReportCallback`` for Keras 3 (extra ``keras``).

Each is a module of its own, imported only when used: importing hyperhive (or this
package) never imports Lightning, Keras or torch.
"""

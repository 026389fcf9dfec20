"""Keras 3: report a monitored metric each epoch, stop when the trial should.

Needs the ``keras`` extra (``pip install "hyperhive[keras]"``: Keras 3 with the
torch backend; set ``KERAS_BACKEND=torch`` before importing keras, or use any
backend you have installed).

Example:
    ```python
    from hyperhive.integrations.keras import ReportCallback

    def objective(config):
        report = ReportCallback(monitor="val_loss")
        model = make_model(config)
        model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[report])
        return report.best
    ```
"""

from __future__ import annotations

from typing import Any

try:
    import keras
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hyperhive.integrations.keras needs Keras 3: pip install "hyperhive[keras]"'
    ) from exc

from hyperhive.integrations._monitor import Monitor

__all__ = ["ReportCallback"]


class ReportCallback(keras.callbacks.Callback):
    """Report ``monitor`` at the end of each epoch; stop training when the trial should.

    Each epoch's value goes to ``hh.report(value, step=epoch)``; once
    ``hh.should_stop()`` is True, ``model.stop_training`` is set, so ``fit`` returns
    after that epoch. Outside a trial the values are only recorded here.

    Args:
        monitor: a key of the epoch's logs (``"val_loss"``, ``"val_accuracy"``, ...).

    Attributes:
        history: ``(epoch, value)`` for every epoch reported.
        stopped_epoch: the epoch after which the trial asked to stop, else None.
    """

    def __init__(self, monitor: str = "val_loss") -> None:
        super().__init__()
        self._monitor = Monitor(monitor)
        if monitor.endswith(("acc", "accuracy", "auc")):
            self._monitor.mode = "max"
        self.stopped_epoch: int | None = None

    @property
    def monitor(self) -> str:
        """The monitored metric's name."""
        return self._monitor.monitor

    @property
    def history(self) -> list[tuple[int, float]]:
        """``(epoch, value)`` for every epoch reported."""
        return self._monitor.history

    @property
    def best(self) -> float:
        """The best value reported (NaN before the first): the lowest, or the highest for
        a metric named like an accuracy or AUC."""
        return self._monitor.best

    @property
    def last(self) -> float:
        """The latest value reported (NaN before the first)."""
        return self._monitor.last

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Report the epoch's value and stop training when the trial should stop."""
        if self._monitor.record(epoch, logs or {}):
            self.stopped_epoch = epoch
            self.model.stop_training = True

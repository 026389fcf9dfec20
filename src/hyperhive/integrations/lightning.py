"""PyTorch Lightning: report a monitored metric each epoch, stop when the trial should.

Needs the ``lightning`` extra (``pip install "hyperhive[lightning]"``); the
``lightning`` package is used, or ``pytorch_lightning`` when only that one is installed.

Example:
    ```python
    from hyperhive.integrations.lightning import ReportCallback

    def objective(config):
        report = ReportCallback(monitor="val_loss", mode="min")
        trainer = lightning.Trainer(max_epochs=20, callbacks=[report])
        trainer.fit(make_model(config), train_loader, val_loader)
        return report.best
    ```
"""

from __future__ import annotations

from typing import Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # pragma: no cover - the older package name
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[assignment]
    except ImportError as exc:
        raise ImportError(
            "hyperhive.integrations.lightning needs PyTorch Lightning: "
            'pip install "hyperhive[lightning]"'
        ) from exc

from hyperhive.integrations._monitor import Monitor

__all__ = ["ReportCallback"]


class ReportCallback(Callback):
    """Report ``monitor`` after each validation epoch; stop training when the trial should.

    Each epoch's value goes to ``hh.report(value, step=epoch)``, where a stopper sees
    it; once ``hh.should_stop()`` is True the trainer is told to stop
    (``trainer.should_stop``), so the trial ends after that epoch. Outside a trial
    the values are only recorded here. The sanity-check validation is ignored.

    Args:
        monitor: a metric logged with ``self.log(...)`` in the LightningModule.
        mode: ``"min"`` or ``"max"``: which direction makes :attr:`best` better.

    Attributes:
        history: ``(epoch, value)`` for every epoch reported.
        stopped_epoch: the epoch after which the trial asked to stop, else None.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min") -> None:
        super().__init__()
        self._monitor = Monitor(monitor, mode)
        self.stopped_epoch: int | None = None

    @property
    def monitor(self) -> str:
        """The monitored metric's name."""
        return self._monitor.monitor

    @property
    def mode(self) -> str:
        """``"min"`` or ``"max"``."""
        return self._monitor.mode

    @property
    def history(self) -> list[tuple[int, float]]:
        """``(epoch, value)`` for every epoch reported."""
        return self._monitor.history

    @property
    def best(self) -> float:
        """The best value reported (NaN before the first): what an objective returns."""
        return self._monitor.best

    @property
    def last(self) -> float:
        """The latest value reported (NaN before the first)."""
        return self._monitor.last

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        """Report the epoch's value and stop the trainer when the trial should stop."""
        if trainer.sanity_checking:
            return
        if self._monitor.record(trainer.current_epoch, trainer.callback_metrics):
            self.stopped_epoch = trainer.current_epoch
            trainer.should_stop = True

"""``python -m hyperhive.cli``: the same as the ``hyperhive`` command."""

from hyperhive.cli.main import app

app(prog_name="hyperhive")

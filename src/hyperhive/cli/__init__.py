"""The ``hyperhive`` command line (``hyperhive run|status|trials|demo``); see :mod:`.main`."""

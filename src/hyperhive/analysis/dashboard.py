"""The live dashboard: a small read-only web page of a run's figures, updated as trials end.

One background thread reads the journal incrementally (only events committed since
its last read, through a read-only connection) every ``refresh`` seconds and
rebuilds the tables and the quick figures when something changed; the page asks for
them every quarter second, so a finished trial shows within about a second. The figures
that cost more (importance, parallel coordinates, slices, contour, hypervolume) are
rebuilt every ``slow_every`` seconds by a second thread with its own reader, so they
never hold up the quick ones. The server answers GET requests only and binds
to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hyperhive.analysis._plotting import NotApplicable, go
from hyperhive.analysis.report import CSS, FIGURES, summary_rows, top_trials_html
from hyperhive.analysis.source import RunLike, RunReader
from hyperhive.search import Result

__all__ = ["Dashboard", "serve_dashboard"]

logger = logging.getLogger(__name__)

_SLOW = {"importance", "parallel", "slice", "contour", "hypervolume"}
_MULTI_ONLY = {"pareto", "hypervolume"}
RECENT = 20

_PAGE = """<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>
<title>hyperhive dashboard: {label}</title><style>{css}
#live{{font-size:13px;color:#c8d3df}}</style>
<script src='plotly.js'></script></head><body>
<header><h1>hyperhive dashboard: {label}</h1><p id='live'>connecting...</p></header><main>
<section id='summary'><h2>Summary</h2><div id='summary-table'></div></section>
<section id='recent'><h2>Latest trials</h2><div id='recent-table'></div></section>
<section id='top'><h2>Top trials</h2><div id='top-table'></div></section>
<div id='figures'></div></main>
<script>
let version = -1;
function esc(s){{return String(s).replace(/[&<>"']/g, c => ({{'&':'&amp;','<':'&lt;',
'>':'&gt;','"':'&quot;',"'":'&#39;'}})[c]);}}
function figure(key, heading){{
  let div = document.getElementById('plot-' + key);
  if (!div) {{
    const sec = document.createElement('section');
    sec.id = 'fig-' + key;
    sec.innerHTML = '<h2>' + esc(heading) + '</h2><p class="note"></p>' +
      '<div class="figure" data-figure="' + key + '" id="plot-' + key + '"></div>';
    document.getElementById('figures').appendChild(sec);
    div = document.getElementById('plot-' + key);
  }}
  return div;
}}
const drawn = {{}};
function draw(state){{
  for (const f of state.figures) {{
    const div = figure(f.key, f.heading);
    div.parentNode.querySelector('.note').textContent = f.note ? 'Not drawn: ' + f.note : '';
    const text = f.figure ? JSON.stringify(f.figure) : '';
    if (f.figure && drawn[f.key] !== text) {{
      drawn[f.key] = text;
      Plotly.react(div, f.figure.data, f.figure.layout, {{responsive: true, displaylogo: false}});
    }}
  }}
}}
function show(state){{
  version = state.version;
  document.getElementById('summary-table').innerHTML = state.summary;
  document.getElementById('recent-table').innerHTML = state.recent;
  document.getElementById('top-table').innerHTML = state.top;
  document.getElementById('live').textContent = 'live: ' + state.trials +
    ' trial(s), updated ' + new Date(state.updated * 1000).toLocaleTimeString();
  return new Promise(done => setTimeout(() => {{ draw(state); done(); }}, 0));
}}
async function poll(){{
  try {{
    const r = await fetch('api/state?since=' + version, {{cache: 'no-store'}});
    if (r.ok) {{ const s = await r.json(); if (s.figures) await show(s); }}
  }} catch (e) {{
    document.getElementById('live').textContent = 'disconnected, retrying...';
  }}
  setTimeout(poll, {poll_ms});
}}
poll();
</script></body></html>"""


def _recent_html(result: Result) -> str:
    ended = [t for t in result.records if t.finished is not None]
    ended.sort(key=lambda t: (-(t.finished or 0.0), -t.id))
    rows = []
    for t in ended[:RECENT]:
        value = "" if t.objective is None else html.escape(str(t.objective))
        stamp = time.strftime("%H:%M:%S", time.localtime(t.finished or 0.0))
        rows.append(
            f"<tr data-trial='{t.id}'><td>{t.id}</td><td>{t.status.value}</td>"
            f"<td>{value}</td><td>{stamp}</td></tr>"
        )
    if not rows:
        return "<p class='note'>No trial has finished yet.</p>"
    return (
        "<table><thead><tr><th>trial</th><th>status</th><th>objective</th><th>finished</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


class Dashboard:
    """A live, read-only web page of one run.

    Args:
        run: a run directory, a store URL or a store (read live), or a
            :class:`~hyperhive.Result` (shown as it is).
        host: the address to bind (default loopback only).
        port: the port (0: any free port).
        refresh: seconds between two reads of the journal.
        slow_every: seconds between two rebuilds of the costlier figures.

    Raises:
        OSError: the address is in use or cannot be bound.
    """

    def __init__(
        self,
        run: RunLike,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        refresh: float = 0.25,
        slow_every: float = 10.0,
    ) -> None:
        go()
        if not refresh > 0:
            raise ValueError(f"refresh must be positive, got {refresh!r}")
        self._reader: RunReader | None = None
        self._slow_reader: RunReader | None = None  # its own copy: no sharing across threads
        self._static: Result | None = None
        if isinstance(run, Result):
            self._static = run
            label = run.run_dir.name if run.run_dir is not None else "result"
        else:
            self._reader = RunReader(run)
            self._slow_reader = RunReader(run)
            label = self._reader.label
        self.label = label
        self.refresh = float(refresh)
        self.slow_every = float(slow_every)
        self._lock = threading.Lock()
        self._version = 0
        self._body = b"{}"
        self._quick: dict[str, Any] | None = None  # tables and quick figures, built together
        self._slow: dict[str, dict[str, Any]] = {}
        self._wanted: list[tuple[str, str, Any]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = ThreadingHTTPServer((host, int(port)), self._handler())
        self._server.daemon_threads = True
        self._update()
        self._update_slow()

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"

    # -- reading ------------------------------------------------------------------
    def _result(self) -> Result:
        if self._static is not None:
            return self._static
        if self._reader is None:  # pragma: no cover - one of the two is always set
            raise RuntimeError("the dashboard has no run")
        return self._reader.result()

    def _figure(self, result: Result, key: str, heading: str, fn: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"key": key, "heading": heading, "figure": None, "note": ""}
        try:
            entry["figure"] = fn(result).to_json()  # kept as JSON text
        except NotApplicable as exc:
            entry["note"] = str(exc)
        except Exception as exc:  # a display: one broken figure must not stop the rest
            logger.exception("dashboard figure %s failed", key)
            entry["note"] = f"error: {exc}"
        return entry

    def _wanted_for(self, result: Result) -> list[tuple[str, str, Any]]:
        multi = len(result.directions) > 1
        return [f for f in FIGURES if f[0] not in _MULTI_ONLY or multi]

    def _update(self) -> None:
        """Read new events (if any); rebuild the tables and the quick figures."""
        if self._reader is not None:
            changed = self._reader.refresh()
            if not changed and self._quick is not None:
                return
            result = self._reader.result()
        else:
            if self._quick is not None:
                return
            result = self._result()
        wanted = self._wanted_for(result)
        rows = summary_rows([(self.label, result)])
        quick: dict[str, Any] = {
            "trials": len(result),
            "summary": "<table><tbody>"
            + "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v[0])}</td></tr>" for k, v in rows
            )
            + "</tbody></table>",
            "recent": _recent_html(result),
            "top": top_trials_html([(self.label, result)]),
            "figures": self._quick["figures"] if self._quick is not None else {},
        }
        with self._lock:  # the tables first: a finished trial shows at once
            self._wanted, self._quick = wanted, quick
            self._publish()
        figures = {
            key: self._figure(result, key, heading, fn)
            for key, heading, fn in wanted
            if key not in _SLOW
        }
        with self._lock:
            self._quick = {**quick, "figures": figures}
            self._publish()

    def _update_slow(self) -> None:
        """Rebuild the costlier figures (from the second reader, in their own thread)."""
        if self._slow_reader is not None:
            self._slow_reader.refresh()
            result = self._slow_reader.result()
        else:
            result = self._result()
        slow = {
            key: self._figure(result, key, heading, fn)
            for key, heading, fn in self._wanted_for(result)
            if key in _SLOW
        }
        with self._lock:
            self._slow = slow
            self._publish()

    def _publish(self) -> None:
        """Assemble the JSON state from the latest pieces (called with the lock held)."""
        if self._quick is None:
            return
        quick = self._quick
        figures = [quick["figures"].get(key) or self._slow.get(key) for key, _, _ in self._wanted]
        self._version += 1
        head = {
            "version": self._version,
            "trials": quick["trials"],
            "updated": time.time(),
            "summary": quick["summary"],
            "recent": quick["recent"],
            "top": quick["top"],
        }
        # The figures are JSON text already: splice them in rather than parse and re-encode.
        parts = [
            json.dumps({k: v for k, v in f.items() if k != "figure"})[:-1]
            + ',"figure":'
            + (f["figure"] or "null")
            + "}"
            for f in figures
            if f is not None
        ]
        self._body = (json.dumps(head)[:-1] + ',"figures":[' + ",".join(parts) + "]}").encode()

    def _loop(self, update: Any, every: float) -> None:
        while not self._stop.wait(every):
            try:
                update()
            except Exception:  # keep serving the last good state; the journal may be busy
                logger.exception("dashboard refresh failed")

    # -- serving ------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        dashboard = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s - %s", self.address_string(), format % args)

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client went away
                    logger.debug("client %s left before the answer", self.address_string())

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                url = urllib.parse.urlsplit(self.path)
                if url.path in ("/", "/index.html"):
                    self._send(200, dashboard.page().encode(), "text/html; charset=utf-8")
                elif url.path == "/plotly.js":
                    from plotly.offline import get_plotlyjs

                    self._send(200, get_plotlyjs().encode(), "text/javascript; charset=utf-8")
                elif url.path == "/api/state":
                    query = urllib.parse.parse_qs(url.query)
                    since = query.get("since", ["-1"])[0]
                    with dashboard._lock:
                        version, body = dashboard._version, dashboard._body
                    if since == str(version):
                        body = json.dumps({"version": version}).encode()
                    self._send(200, body, "application/json")
                elif url.path == "/favicon.ico":
                    self._send(204, b"", "image/x-icon")
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler

    def page(self) -> str:
        """The HTML page (its script polls ``api/state``)."""
        return _PAGE.format(label=html.escape(self.label), css=CSS, poll_ms=250)

    def start(self) -> Dashboard:
        """Serve and refresh in background threads; returns self."""
        targets = (
            self._server.serve_forever,
            lambda: self._loop(self._update, self.refresh),
            lambda: self._loop(self._update_slow, self.slow_every),
        )
        for target in targets:
            thread = threading.Thread(target=target, name="hyperhive-dashboard", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop serving and reading."""
        self._stop.set()
        if self._threads:
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        for reader in (self._reader, self._slow_reader):
            if reader is not None:
                reader.close()

    def __enter__(self) -> Dashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_dashboard(
    run: RunLike, host: str = "127.0.0.1", port: int = 8080, *, refresh: float = 0.25
) -> None:
    """Serve the live dashboard of ``run`` until interrupted (Ctrl-C).

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    with Dashboard(run, host=host, port=port, refresh=refresh):
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass

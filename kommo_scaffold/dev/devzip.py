"""dist/widget-dev.zip: the real widget with a loader script.js, uploaded once to Kommo.

The loader reads ``localStorage['kommo-dev:<project>']``. When it holds a port number it
loads ``http://localhost:<port>/<token>/script.js`` from `kommo dev` (RequireJS treats an id
with a protocol as a plain URL, and relative dependencies inside the served module resolve
against the dev server); otherwise it loads the real script bundled in the zip, so other
users of the account keep a working widget. The host is always localhost: a stored value
can only pick a port. `kommo check`/`kommo pack` refuse the loader (KS308), so it never
reaches a production zip.
"""

from __future__ import annotations

import json
from pathlib import Path

from kommo_scaffold import check
from kommo_scaffold.check import pack
from kommo_scaffold.dev.workspace import REAL_SCRIPT, DevError, DevProject
from kommo_scaffold.plumbing import interrupt


def loader_script(dev_key: str, token: str) -> str:
    """The loader script.js; both values are JSON-escaped into the JavaScript."""
    return f"""/*
 * kommo dev loader: NOT a production script (kommo pack refuses it).
 * With localStorage[{json.dumps(dev_key)}] set to a port, the widget's code comes from
 * `kommo dev` on http://localhost:<port>; otherwise from {REAL_SCRIPT} in this zip.
 */
(function () {{
  'use strict';
  var KEY = {json.dumps(dev_key)};
  var TOKEN = {json.dumps(token)};
  var port = null;
  try {{
    port = window.localStorage.getItem(KEY);
  }} catch (e) {{
    port = null;
  }}
  var dev = /^[0-9]{{2,5}}$/.test(port || '');
  var source = dev ? 'http://localhost:' + port + '/' + TOKEN + '/script.js' : './{REAL_SCRIPT}';
  if (dev && window.console) {{
    window.console.info('[kommo dev] ' + KEY + ': loading ' + source);
  }}
  define([source], function (Widget) {{
    return Widget;
  }});
}}());
"""


def build(project: DevProject, token: str) -> Path:
    """Write dist/widget-dev.zip (deterministic, like `kommo pack`) and return its path."""
    root = project.widget
    # The checker's reader: what pack would ship, read without following links.
    data = dict(check.read(root).data)
    if "manifest.json" not in data or "script.js" not in data:
        raise DevError(f"{root} needs manifest.json and script.js for the dev zip")
    if REAL_SCRIPT in data:
        raise DevError(f"{root / REAL_SCRIPT} exists; the dev zip needs that name for the "
                       "real script: rename the file")
    data[REAL_SCRIPT] = data["script.js"]
    data["script.js"] = loader_script(project.dev_key, token).encode("utf-8")
    target = project.dev_zip
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with interrupt.temporary_file(target.parent, f".{target.name}.") as tmp:
            pack.zip_to(tmp, data)
            tmp.replace(target)
    except OSError as error:
        raise DevError(f"cannot write {target}: {error.strerror or error}") from None
    return target

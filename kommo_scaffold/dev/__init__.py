"""`kommo dev`: serve a widget project to a Kommo tab and to a local Kommo-shaped preview.

Modules, one per noun: ``project`` (where the widget is, the per-project token and dev
settings), ``devzip`` (the loader zip), ``server`` (HTTP, server-sent events, the preview's
endpoints), ``watch`` (file watching and the checker), ``libs`` (the preview's JavaScript
libraries, installed once from npm into a per-user cache), ``session`` (start and stop it all).
"""

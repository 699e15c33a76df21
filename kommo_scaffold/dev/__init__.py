"""`kommo dev`: serve a widget project to a Kommo tab and to a local Kommo-shaped preview.

Modules, one per noun: ``project`` (where the widget is, the per-project token and dev
settings), ``devzip`` (the loader zip), ``server`` (HTTP and the preview's endpoints),
``kommo_routes`` (its server-sent events and crm_post proxy), ``api`` and ``api_route``
(Kommo's API for the preview), ``watch`` (file watching and the checker), ``libs`` (the
preview's JavaScript libraries, installed once from npm into a per-user cache), ``session``
(start and stop it all).
"""

"""``locker serve``: the local web app (issue 14).

An interface like the command line: each route parses the request, calls one service of
:mod:`locker.services` and renders the result with a template. Starlette, Jinja2 and the
vendored htmx (``static/htmx.min.js``, Zero-Clause BSD, ``static/htmx.LICENSE.txt``) are the
``web`` extra; nothing here is imported by ``locker --help`` or any other command.
"""

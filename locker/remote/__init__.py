"""A write-once replica of disputes on S3 Object Lock storage (issue 15).

``config`` keeps the remotes a home knows (``[remotes.NAME]`` tables of ``locker.toml``: where, never
credentials); ``client`` opens one through boto3, imported only here and only when a remote is used,
and turns the storage's failures into one line a user can act on; ``layout`` names the keys;
``archive``, ``check``, ``verify`` and ``restore`` are the use cases the command line calls.
"""

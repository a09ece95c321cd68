"""One S3 client for one remote, and the storage's failures in words a user can act on.

boto3 is an optional extra (``pip install 'locker[s3]'``): it is imported here, only when a remote is
used, and its absence is one clear line. Credentials come from boto3's standard chain, never from
the locker. Every call that reaches the network goes through :meth:`S3.call`, which turns botocore's
exceptions into a :class:`RemoteError`, so no traceback reaches a user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import LockerError, MissingDependency
from ..i18n import _
from .config import Remote

T = TypeVar("T")
CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 60
ATTEMPTS = 3  # botocore's "standard" retry mode: a dropped connection is tried again, then reported
POOL = 16  # connections: the upload threads share them


class RemoteError(LockerError):
    """The remote said no, or could not be reached. ``reason`` is a stable code for --json."""

    code = "remote"

    def __init__(self, message: str, *, reason: str = "remote", path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.reason = reason


_LOADER: list[Any] = []


def botocore_session() -> Any:
    """A botocore session (the part of boto3 that signs, sends, retries and parses; importing boto3
    itself, with its transfer manager and resources, costs ~0.1-0.6 s more and is not needed). A fresh
    one each time, so that credentials are looked up afresh, but all sharing one data loader: it keeps
    the S3 service model it read, so the next dispute of a batch gets its client in milliseconds
    (measured: archiving 20 small disputes in one process, 816 ms each with a loader apiece, 170 ms)."""
    try:
        import botocore.session
    except ImportError:
        raise MissingDependency(_("remotes need boto3, which is not installed: pip install 'locker[s3]' "
                                  "(or: pip install boto3)")) from None
    session = botocore.session.Session()
    if _LOADER:
        session.register_component("data_loader", _LOADER[0])
    else:
        _LOADER.append(session.get_component("data_loader"))
    return session


class S3:
    """A boto3 S3 client bound to one remote's bucket, with errors translated."""

    def __init__(self, remote: Remote) -> None:
        session = botocore_session()
        from botocore.config import Config

        self.remote = remote
        self.bucket = remote.bucket
        config = Config(
            connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, max_pool_connections=POOL,
            retries={"max_attempts": ATTEMPTS, "mode": "standard"},
            # The locker sends the SHA-256 itself (the server checks it); botocore adds none of its own.
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            s3={"addressing_style": "path"} if remote.endpoint else {},
        )
        self.client = session.create_client("s3", endpoint_url=remote.endpoint, region_name=remote.region or "us-east-1",
                                     config=config)

    def call(self, operation: str, **kwargs: Any) -> Any:
        """``client.<operation>(Bucket=…, **kwargs)``, its failure a RemoteError."""
        return self.guard(lambda: getattr(self.client, operation)(Bucket=self.bucket, **kwargs))

    def guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as err:  # botocore's exception tree: translated, anything else raised as it is
            raise translate(err, self.remote) from None


def error_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")) or None
    return None


def translate(err: Exception, remote: Remote) -> Exception:
    """The RemoteError a botocore failure means; anything that is not botocore's, unchanged."""
    from botocore import exceptions as bx

    where = remote.endpoint or "S3"
    if isinstance(err, RemoteError | LockerError):
        return err
    if isinstance(err, bx.NoCredentialsError | bx.PartialCredentialsError | bx.ProfileNotFound):
        return RemoteError(_("no credentials for remote {name}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                             "or AWS_PROFILE, or ~/.aws/credentials ({problem})").format(name=remote.name, problem=err),
                           reason="credentials")
    if isinstance(err, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.ReadTimeoutError
                  | bx.ConnectTimeoutError | bx.ConnectionError | bx.HTTPClientError):
        return RemoteError(_("cannot reach remote {name} at {where}: {problem}").format(
            name=remote.name, where=where, problem=_first_line(err)), reason="unreachable")
    if isinstance(err, bx.ClientError):
        code = error_code(err) or ""
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId"):
            return RemoteError(_("remote {name} refused the credentials ({code}): check AWS_ACCESS_KEY_ID, "
                                 "AWS_SECRET_ACCESS_KEY or AWS_PROFILE").format(name=remote.name, code=code),
                               reason="credentials")
        if code in ("AccessDenied", "403", "Forbidden"):
            return RemoteError(_("remote {name} denied access ({code}): these credentials may not do this "
                                 "in bucket {bucket}").format(name=remote.name, code=code, bucket=remote.bucket),
                               reason="denied")
        if code in ("NoSuchBucket",):
            return RemoteError(_("remote {name}: bucket {bucket} does not exist").format(name=remote.name, bucket=remote.bucket),
                               reason="no_bucket")
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            return RemoteError(_("remote {name} refused an upload: its bytes do not match their SHA-256 ({code})").format(
                name=remote.name, code=code), reason="checksum")
        return RemoteError(_("remote {name} answered {code}: {problem}").format(
            name=remote.name, code=code or "?", problem=_first_line(err)), reason="remote")
    if isinstance(err, bx.BotoCoreError):
        return RemoteError(_("remote {name}: {problem}").format(name=remote.name, problem=_first_line(err)))
    return err


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__

"""``locker remote add/list/check`` and ``locker archive``: write-once copies on S3 Object Lock storage
(issue 15). ``verify --remote`` and ``restore --from`` are options of those commands (cli.py, edit.py);
their rendering lives here too, with the ``--json`` documents (``schemas/remote-*.schema.json``,
``archive``, ``verify-remote``, ``restore-remote``)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..cli import DisputeArg, JsonOpt, _home, _progressing, app
from ..i18n import N_, _

remote_app = typer.Typer(name="remote", help=N_("The S3 Object Lock remotes that locker archive copies disputes to."),
                         subcommand_metavar="COMMAND [ARGS]…",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(remote_app, name="remote")


@remote_app.command("add", short_help=N_("Remember a remote: where it is, never credentials."), help=N_(
    "Remember a remote: s3://BUCKET/PREFIX on an S3 service with Object Lock. Only where it is is stored; "
    "credentials come from the AWS environment (AWS_ACCESS_KEY_ID, ~/.aws/credentials, AWS_PROFILE)."))
def remote_add(
    name: str = typer.Argument(..., metavar="NAME", help=N_("A short name for it, e.g. office.")),
    url: str = typer.Argument(..., metavar="s3://BUCKET/PREFIX", help=N_("The bucket, and a prefix inside it.")),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", metavar="URL", help=N_("The S3 service's address (default: AWS S3), e.g. https://oss-cn-hangzhou.aliyuncs.com.")),
    region: Optional[str] = typer.Option(None, "--region", metavar="REGION", help=N_("The region, e.g. cn-hangzhou (default: us-east-1).")),
    retain: str = typer.Option("3y", "--retain", metavar="PERIOD", help=N_("How long each copy is locked: 90d, 6m, 3y.")),
    mode: str = typer.Option("compliance", "--mode", metavar="compliance|governance", help=N_("compliance: nobody can shorten or delete, not even the account owner; governance: special permission can.")),
    replace: bool = typer.Option(False, "--replace", help=N_("Change a remote of that name.")),
    json_out: bool = JsonOpt,
) -> None:
    from ..remote import config
    from ..render import emit_json

    found = config.add(_home(may_create=True), name, url, endpoint=endpoint, region=region, retain=retain, mode=mode,
                       replace=replace)
    if json_out:
        emit_json(found.as_dict())
    else:
        typer.echo(_("Remote {name}: {url} (retain {retain}, {mode} mode). Check it with `locker remote check {name}`.").format(
            name=found.name, url=found.url, retain=found.retain, mode=found.mode))


@remote_app.command("list", help=N_("The remotes this home knows."))
def remote_list(json_out: bool = JsonOpt) -> None:
    from ..remote import config
    from ..render import emit_json

    found = config.load_all(_home())
    if json_out:
        emit_json({"remotes": [r.as_dict() for r in found.values()]})
        return
    if not found:
        typer.echo(_("No remote yet: locker remote add NAME s3://BUCKET/PREFIX --endpoint URL"))
    for r in found.values():
        where = f" {r.endpoint}" if r.endpoint else ""
        typer.echo(f"{r.name}  {r.url}{where}  {r.retain} {r.mode}")


@remote_app.command("check", short_help=N_("Check that a remote can keep write-once copies."), help=N_("Check that a remote can keep write-once copies: bucket, versioning, Object Lock, "
                                      "retention. Exit 1 naming what is missing. Writes one small locked test object."))
def remote_check(
    name: str = typer.Argument(..., metavar="NAME", help=N_("The remote's name.")),
    json_out: bool = JsonOpt,
) -> None:
    from ..remote import check as checking
    from ..render import emit_json

    found = checking.check(_home(), name)
    if json_out:
        emit_json(check_doc(found))
    else:
        for r in found.requirements:
            mark = _("ok") if r.ok else _("MISSING")
            typer.echo(f"{mark:>8}  {r.name}: {r.detail}")
        if found.default_retention:
            typer.echo(_("    note  the bucket's default retention: {rule}").format(rule=found.default_retention))
        typer.echo(_("{name} can keep write-once copies.").format(name=name) if found.ok else
                   _("{name} cannot keep write-once copies yet.").format(name=name))
    if not found.ok:
        raise typer.Exit(1)


def check_doc(found: Any) -> dict[str, Any]:
    return {"remote": found.remote.as_dict(), "ok": found.ok, "default_retention": found.default_retention,
            "requirements": [{"name": r.name, "ok": r.ok, "detail": r.detail} for r in found.requirements]}


@app.command(help=N_(
    "Copy a dispute to a write-once remote (S3 Object Lock): originals, database snapshot, custody log, packs, "
    "bundles, timestamp tokens. Only what the remote lacks is uploaded; each run is custody-logged. Uses the network."))
def archive(
    dispute: str = DisputeArg,
    to: Optional[str] = typer.Option(None, "--to", metavar="NAME", help=N_("The remote (default: the only one).")),
    json_out: bool = JsonOpt,
) -> None:
    from ..remote import archive as archiving
    from ..render import emit_json

    result = _progressing(_("archiving"), json_out, archiving.archive, _home(), dispute, to)
    if json_out:
        emit_json(archive_doc(result))
    elif result.up_to_date:
        typer.echo(_("{slug} is archived on {remote} already (custody entry {seq}); nothing was new.").format(
            slug=result.slug, remote=result.remote, seq=result.seq))
    else:
        from ..values import human_size

        typer.echo(_("Archived {slug} to {remote} ({url}): {count} key(s) uploaded ({size}), {kept} already there; "
                     "locked ({mode}) until {until}. Custody entry {seq}.").format(
            slug=result.slug, remote=result.remote, url=result.url, count=len(result.uploaded),
            size=human_size(result.bytes_uploaded), kept=result.kept, mode=result.mode, until=result.retain_until,
            seq=result.seq))


def archive_doc(result: Any) -> dict[str, Any]:
    return {"dispute": result.slug, "remote": result.remote, "url": result.url, "up_to_date": result.up_to_date,
            "custody_seq": result.seq, "manifest": result.manifest, "mode": result.mode.upper(),
            "retain_until": result.retain_until, "objects": result.objects, "files": result.files,
            "kept": result.kept, "bytes_uploaded": result.bytes_uploaded, "aborted_uploads": result.aborted_uploads,
            "uploaded": [{"key": u.key, "version_id": u.version_id, "size": u.size, "checksum": u.checksum,
                          "parts_reused": u.parts_reused}
                         for u in result.uploaded]}


def verify_remote(dispute: str, remote: str, json_out: bool) -> None:
    from ..remote import verify as verifying
    from ..render import emit_json

    report = verifying.verify_remote(_home(), dispute, remote)
    if json_out:
        emit_json(verify_remote_doc(report))
    else:
        print_verify_remote(report)
    if not report.ok:
        raise typer.Exit(1)


def verify_remote_doc(report: Any) -> dict[str, Any]:
    last = report.last_archived
    return {"dispute": report.slug, "remote": report.remote.name, "url": report.remote.url, "ok": report.ok,
            "keys_checked": report.keys_checked, "entries_checked": report.entries_checked,
            "last_archived": None if last is None else {"at": last.at, "custody_seq": last.seq,
                                                        "retain_until": last.retain_until},
            "problems": [{"key": p.key, "problem": p.problem, "detail": p.detail, "severity": p.severity}
                         for p in report.problems]}


def print_verify_remote(report: Any) -> None:
    from ..render import safe

    last = report.last_archived
    when = _("last archived there {at} (custody entry {seq})").format(at=last.at, seq=last.seq) if last else _(
        "never archived there")
    errors = [p for p in report.problems if p.severity == "error"]
    if not errors:
        typer.echo(safe(_("{slug} on {remote}: OK — {keys} keys present, unaltered and locked; {entries} custody "
                          "entries archived; {when}").format(slug=report.slug, remote=report.remote.name,
                                                            keys=report.keys_checked, entries=report.entries_checked,
                                                            when=when)))
    else:
        typer.echo(safe(_("{slug} on {remote}: {count} problem(s); {when}").format(
            slug=report.slug, remote=report.remote.name, count=len(errors), when=when)))
    for p in report.problems:
        prefix = _("warning: ") if p.severity != "error" else ""
        typer.echo(safe(f"  {prefix}{p.problem}: {p.detail}" + (f" [{p.key}]" if p.key else "")))


def restore_remote(remote: str, dispute: str, slug: Optional[str], json_out: bool) -> None:
    from ..remote import restore as restoring
    from ..render import emit_json

    result = _progressing(_("restoring"), json_out, restoring.restore, _home(may_create=True), remote, dispute, slug=slug)
    if json_out:
        emit_json({"dispute": result.slug, "recorded_slug": result.recorded_slug, "remote": result.remote,
                   "manifest": result.manifest, "objects": result.objects, "files": result.files,
                   "bytes": result.bytes, "entries_restored": result.entries, "custody_seq": result.seq,
                   "verified": result.verified})
    else:
        from ..values import human_size

        typer.echo(_("Restored {slug} from {remote}: {objects} original(s), {files} other file(s), {size}; "
                     "{entries} custody entries, then entry {seq} (restored). It verifies.").format(
            slug=result.slug, remote=result.remote, objects=result.objects, files=result.files,
            size=human_size(result.bytes), entries=result.entries, seq=result.seq))

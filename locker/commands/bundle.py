"""``locker bundle DISPUTE``: one ZIP (a BagIt bag) a recipient can check without locker; and the
rendering of ``locker verify --bundle FILE.zip`` (the option lives on ``verify`` in cli.py)."""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from ..cli import DisputeArg, JsonOpt, _home, _progressing, app
from ..i18n import N_, _


@app.command(help=N_("Write a bundle: one ZIP (a BagIt bag) of the originals, the pack, the custody log, the chats "
                     "and the timestamps, with VERIFY.txt, that anybody can check without locker."))
def bundle(
    dispute: str = DisputeArg,
    output: Optional[str] = typer.Option(None, "-o", "--output", metavar="FILE.zip",
                                         help=N_("Write the bundle here (a file, or a folder for the dated name). "
                                                 "Default: the dispute's exports/ folder.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="zh|en", help=N_("Language of the pack inside (default: the profile's language, else zh).")),
    include: Optional[List[str]] = typer.Option(None, "--include", metavar="N", help=N_("Only these exhibits, e.g. 1,3 or 2-5 (repeatable).")),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", metavar="N", help=N_("Leave these exhibits out, e.g. 4 or 2-3 (repeatable).")),
    stamp: bool = typer.Option(False, "--stamp", help=N_("Have a Time-Stamp Authority of the profile stamp the bundle's tag manifest (a network call).")),
    tsa: Optional[List[str]] = typer.Option(None, "--tsa", metavar="URL", help=N_("With --stamp: the TSA to ask (repeatable, tried in turn); default: the profile's.")),
    force: bool = typer.Option(False, "--force", help=N_("Let -o replace an existing file (never one inside the locker home).")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import documents, render
    from ..services import bundle as bundling

    options = bundling.BundleOptions(output=output, lang=lang, include=tuple(include or ()),
                                     exclude=tuple(exclude or ()), stamp=stamp, tsa=tuple(tsa or ()), force=force)
    result = _progressing(_("bundling"), json_out, bundling.bundle, _home(), dispute, options,
                          dispute_document=documents.show_doc)
    if json_out:
        render.emit_json(bundle_doc(result))
        return
    typer.echo(bundle_text(result))
    for warning in result.warnings:
        typer.echo(warning, err=True)


def bundle_doc(result: Any) -> dict[str, Any]:
    return {"slug": result.slug, "path": str(result.path), "sha256": result.sha256, "size": result.size,
            "exhibits": list(result.exhibits), "lang": result.lang, "pack": str(result.pack),
            "pack_sha256": result.pack_sha256, "tagmanifest_sha256": result.tagmanifest_sha256,
            "payload_oxum": result.payload_oxum, "custody_seq": result.custody_seq, "tokens": list(result.tokens),
            "stamped_by": result.stamped_by}


def bundle_text(result: Any) -> str:
    lines = [_("Bundle written: {path}").format(path=result.path),
             _("  {count} originals, the pack, the custody log up to entry {seq}; SHA-256 {sha}").format(
                 count=len(result.exhibits), seq=result.custody_seq, sha=result.sha256)]
    if result.stamped_by:
        lines.append(_("  tag manifest stamped by {tsa}").format(tsa=result.stamped_by))
    lines.append(_("  The recipient checks it with VERIFY.txt inside, or: locker verify --bundle FILE.zip"))
    return "\n".join(lines)


def verify_bundle(path: str, json_out: bool) -> None:
    """``locker verify --bundle FILE.zip`` (called by cli.verify): no home is opened."""
    from .. import render
    from ..services import bundle as bundling

    report = bundling.check(path)
    if json_out:
        render.emit_json(verify_bundle_doc(report))
    else:
        print_verify_bundle(report)
    if not report.ok:
        raise typer.Exit(1)


def verify_bundle_doc(report: Any) -> dict[str, Any]:
    """The verify schema's document: the bundle is one "dispute" (its slug: the bag's name); each problem's
    detail begins with the member it is about."""
    return {"ok": report.ok, "disputes": [{
        "slug": report.slug or "", "ok": report.ok, "objects_checked": report.originals_checked,
        "problems": [{"exhibit": p.exhibit, "problem": p.problem,
                      "detail": f"{p.member}: {p.detail}" if p.member else p.detail} for p in report.problems],
    }]}


def print_verify_bundle(report: Any) -> None:
    name = report.slug or report.path
    if report.ok:
        typer.echo(_("{name}: OK — {count} originals, {members} files, custody log intact, {tokens} timestamp "
                     "token(s) checked").format(name=name, count=report.originals_checked, members=report.members,
                                                tokens=report.tokens_checked))
        for method in report.token_methods:
            typer.echo(_("  token {method}").format(method=method))
        for p in report.problems:  # warnings only
            typer.echo(_("  warning: {member}: {problem}: {detail}").format(
                member=p.member or _("bundle"), problem=p.problem, detail=p.detail))
        return
    typer.echo(_("{name}: {problems} problem(s)").format(name=name, problems=len(report.problems)))
    for p in report.problems:
        where = p.member or _("bundle")
        typer.echo(f"  {where}: {p.problem}: {p.detail}")

"""``locker kit``: an upload kit for a phone form (evidence cards, the description cut to the form's
limit, kit.json, a ZIP). Parse, call :func:`locker.services.kit.make`, render — the rendering and the
``--json`` document of the command live here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import typer

from ..cli import JsonOpt, _home, _progressing, app
from ..i18n import N_, _

if TYPE_CHECKING:
    from ..services.kit import KitResult

LEFT_OUT = {
    "no_room": N_("the form has no room left for it"),
    "withdrawn": N_("withdrawn"),
    "not_asked": N_("not in --exhibits"),
}


@app.command(help=N_(
    "Write an upload kit for an in-app form (after-sales request, 申请平台介入, 12315): evidence cards as "
    "JPEG images sized for the form, an overview card, the description cut to the form's character limit, "
    "kit.json and a ZIP of it all. Recorded in the custody log."))
def kit(
    dispute: Optional[str] = typer.Argument(None, metavar="DISPUTE", help=N_(
        "The dispute: its slug, a unique prefix of it, or a unique part of its title.")),
    form: Optional[str] = typer.Option(None, "--for", metavar="FORM",
                                       help=N_("The form's profile: generic-9, generic-3, 12315, taobao, jd, "
                                               "pinduoduo, douyin, xiaohongshu, or one of your own in locker.toml "
                                               "([forms.NAME]). Default: the dispute's platform's, else generic-9.")),
    output: Optional[str] = typer.Option(None, "-o", "--output", metavar="FOLDER",
                                         help=N_("A new folder for the kit (its ZIP is written beside it, "
                                                 "FOLDER.zip). Default: the dispute's exports/ folder.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="zh|en",
                                       help=N_("Language of the cards and the description (default: the "
                                               "profile's, else zh).")),
    exhibits: Optional[str] = typer.Option(None, "--exhibits", metavar="1,3,5-7",
                                           help=N_("Exactly these exhibits, instead of the choice made by what "
                                                   "they prove, their kind and their time.")),
    list_forms: bool = typer.Option(False, "--forms", help=N_("List the known form profiles and their limits, "
                                                               "each marked checked (with its date) or assumed.")),
    json_out: bool = JsonOpt,
) -> None:
    from .. import render
    from ..services import kit as kits

    home = _home()
    if list_forms:
        from ..kit import forms as formlib

        found = formlib.all_forms(home.profile_path)
        if json_out:
            render.emit_json({"forms": [_form_doc(f) for f in found.values()]})
        else:
            _print_forms(found.values(), lang or "zh")
        return
    if dispute is None:
        from ..errors import UsageError

        raise UsageError(_("name the dispute: locker kit DISPUTE (or list the forms: locker kit --forms)"))
    options = kits.KitOptions(form=form, output=output, lang=lang,
                              exhibits=(exhibits,) if exhibits else ())
    result = _progressing(_("making cards"), json_out, kits.make, home, dispute, options)
    if json_out:
        render.emit_json(kit_doc(result))
        for warning in result.warnings:
            render.print_warning(warning)
    else:
        _print_kit(result)


def _form_doc(form: Any) -> dict[str, Any]:
    return {"id": form.id, "name": form.name("en"), "origin": form.origin, "kind": form.kind,
            "limits": {k: v.as_json() for k, v in form.limits().items()}, "assumed": list(form.assumed)}


def kit_doc(result: KitResult) -> dict[str, Any]:
    """The ``--json`` document of ``locker kit`` (schemas/kit.schema.json)."""
    return {
        "slug": result.slug, "folder": str(result.folder), "zip": str(result.zip_path),
        "zip_sha256": result.zip_sha256, "manifest_sha256": result.manifest_sha256,
        "form": result.manifest["form"], "exhibits": list(result.exhibits),
        "left_out": [{"exhibit": n, "reason": why, "name": name} for n, why, name in result.left_out],
        "cards": result.manifest["cards"], "description": result.manifest["description"],
        "warnings": list(result.warnings), "pack": result.pack,
    }


def _print_kit(result: KitResult) -> None:
    from .. import render
    from ..values import human_size

    console = render._console()
    console.print(render._text(_("Wrote the upload kit of {slug} for {form}: {path}").format(
        slug=result.slug, form=result.form.id, path=result.folder)))
    console.print(render._text(_("ZIP: {path}").format(path=result.zip_path)))
    for card in result.cards:
        what = _("overview") if card.exhibit is None else _("exhibit {n}").format(n=card.exhibit)
        if card.parts and card.parts > 1:
            what += " " + _("part {i} of {n}").format(i=card.part, n=card.parts)
        console.print(render._text(f"  {card.file}  {card.width}×{card.height}  {human_size(card.size)}  {what}"))
    if result.pack is not None:
        console.print(render._text(_("  {file}  {size}  the evidence pack (PDF, {pages} pages), the copy of {path}").format(
            file=result.pack["file"], size=human_size(result.pack["size"]), pages=result.pack["pages"],
            path=result.pack["exported_to"])))
    desc = result.manifest["description"]
    if desc["cut"]:
        console.print(render._text(_("description.txt: {chars} of {full} characters (the form takes {limit}); "
                                     "the whole text is in description-full.txt").format(
            chars=desc["chars"], full=desc["full_chars"], limit=desc["limit"])))
    else:
        console.print(render._text(_("description.txt: {chars} characters (the form takes {limit})").format(
            chars=desc["chars"], limit=desc["limit"])))
    for number, why, name in result.left_out:
        console.print(render._text(_("not in the kit: exhibit {number} ({name}) — {why}").format(
            number=number, name=render.safe(name), why=_(LEFT_OUT.get(why, why)))))
    if result.form.assumed:
        render.print_warning(_("the limits of {form} ({limits}) are assumptions, not checked on the form: check "
                               "them in the app before you rely on them").format(
            form=result.form.id, limits=", ".join(result.form.assumed)))
    for warning in result.warnings:
        render.print_warning(warning)


def _print_forms(found: Any, lang: str) -> None:
    from .. import render

    console = render._console()
    for form in found:
        console.print(render._text(f"{form.id}  {form.name(lang)}"))
        for key, value in form.limits().items():
            standing = (_("checked on {date}").format(date=value.checked_on) if value.standing == "checked"
                        else _("assumed, to check") if value.standing == "assumed" else _("the locker's own"))
            shown = ", ".join(value.value) if isinstance(value.value, list) else str(value.value)
            console.print(render._text(f"    {key} = {shown}  ({standing})"))

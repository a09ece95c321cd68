"""One exhibit's pages: its heading and stamp, the failed-check box, the metadata box, then its
content by shape (a picture, the slices of a long screenshot, a video's key frames, a chat transcript,
a document's own pages, or a note where the original can be obtained)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...values import human_size
from .. import flowables as F
from ..labels import TEXT
from ..markup import duration, show_time
from ..page import FRAME_H, FRAME_W, MM, STAMP, WARN, Plan, State, template_id
from . import chat, ocrchat

if TYPE_CHECKING:
    from ..builder import Layout


def meta_box(lay: Layout, plan: Plan) -> Any:
    e, L = plan.exhibit, lay.L
    md = e.metadata or {}
    pairs: list[tuple[str, str]] = [(L["meta_title"], lay.text(e.name)), (L["meta_file"], lay.text(e.original_name)),
                                    (L["meta_type"], lay.text(f"{L.kind(e.kind)} · {e.mime}")),
                                    (L["meta_size"], lay.text(L.f("meta_size_value", n=f"{e.size:,}",
                                                                     human=human_size(e.size)))),
                                    (L["meta_sha"], lay.mono(e.sha256, 8))]
    if e.check == "damaged" and e.found_sha256:
        pairs.append((L["meta_found_sha"], f'<font color="{WARN}">{lay.mono(e.found_sha256, 8)}</font>'))
    if e.captured_at:
        captured = f"{show_time(e.captured_at, None, offset=True)}（{L.f('time_source', source=lay.time_source(e))}）" \
            if L.lang == "zh" else \
            f"{show_time(e.captured_at, None, offset=True)} ({L.f('time_source', source=lay.time_source(e))})"
        pairs.append((L["meta_captured"], lay.text(captured)))
    else:
        pairs.append((L["meta_captured"], lay.text(L["unknown_time"])))
    if e.ingested_at:
        pairs.append((L["meta_ingested"], lay.text(show_time(e.ingested_at, lay.tz, offset=True))))
    if e.source:
        pairs.append((L["meta_source"], lay.text(e.source)))
    if e.purpose:
        pairs.append((L["meta_purpose"], lay.text(e.purpose)))
    if e.note:
        pairs.append((L["meta_note"], lay.text(e.note)))
    raw_exif = md.get("exif")
    exif: dict[str, Any] = raw_exif if isinstance(raw_exif, dict) else {}
    device = " ".join(str(exif[k]) for k in ("Make", "Model") if exif.get(k))
    if exif.get("Software"):
        device += f" · {exif['Software']}"
    if device:
        pairs.append((L["meta_device"], lay.text(device)))
    gps = md.get("gps") if isinstance(md.get("gps"), dict) else None
    if gps and gps.get("latitude") is not None and gps.get("longitude") is not None:
        pairs.append((L["meta_location"], lay.text(f"{gps['latitude']}, {gps['longitude']}")))
    if md.get("width") and md.get("height") and plan.shape in ("image", "long", "video", "other"):
        (w, h), stored, orientation = pixels(lay, plan)
        if stored != (w, h) and orientation:
            size = L.f("pixels_turned", w=w, h=h, o=orientation, sw=stored[0], sh=stored[1])
        else:
            size = f"{w}×{h}"
        pairs.append((L["meta_pixels"], lay.text(size)))
    pairs += credential_pairs(lay, md)
    if e.withdrawn:
        pairs.append((L["meta_withdrawn"], f'<font color="{WARN}">{lay.text(e.withdrawn_reason or "—")}</font>'))
    warnings = list(e.warnings) + list(plan.notes) + ([plan.problem] if plan.problem else [])
    if warnings:
        pairs.append((L["meta_warnings"], f'<font color="{WARN}">' + "<br/>".join(lay.text(L.note(w)) for w in warnings)
                      + "</font>"))
    original = lay.text(L.f("original_missing" if e.check == "missing" else "original_in_locker",
                             ref=e.object_ref))
    if plan.attachment:
        original += lay.text(L.f("original_attached", name=plan.attachment))
    pairs.append((L["meta_original"], original))
    return lay.kv(pairs, label_w=26 * MM)


def credential_pairs(lay: Layout, md: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The metadata-box rows for content credentials (C2PA) and the GB 45438-2025 AIGC label."""
    L = lay.L
    pairs: list[tuple[str, str]] = []
    c2pa = md.get("c2pa")
    if isinstance(c2pa, dict):
        state = c2pa.get("state")
        codes = ", ".join(str(c) for c in c2pa.get("codes") or [] if c != "signingCredential.untrusted") or "—"
        shown = {"valid": L["c2pa_valid"], "untrusted": L["c2pa_untrusted"],
                 "invalid": L.f("c2pa_invalid", codes=codes)}.get(
            str(state), L.f(f"c2pa_{c2pa.get('reason')}", url=c2pa.get("manifest_url"))
            if f"c2pa_{c2pa.get('reason')}" in TEXT else L["c2pa_unsupported_format"])
        signer = c2pa.get("signer") or c2pa.get("signer_name")
        line = lay.text(L.f("c2pa_signed", signer=signer, state=shown) if signer else shown)
        if state != "valid":
            line = f'<font color="{WARN}">{line}</font>'
        details = []
        if c2pa.get("claim_generator"):
            details.append(L.f("c2pa_generator", generator=c2pa["claim_generator"]))
        if c2pa.get("actions"):
            actions = ", ".join(str(a) for a in c2pa["actions"])
            if c2pa.get("digital_source_type"):
                actions += f" ({c2pa['digital_source_type']})"
            details.append(L.f("c2pa_actions", actions=actions))
        if c2pa.get("checked_with"):
            details.append(L.f("c2pa_checked", tool=c2pa["checked_with"], trust=c2pa.get("trust_list") or "—"))
        pairs.append((L["meta_c2pa"], "<br/>".join([line] + [lay.text(d) for d in details])))
    aigc = md.get("aigc")
    if isinstance(aigc, dict):
        key = f"aigc_{aigc.get('meaning')}"
        meaning = L[key] if key in TEXT else L.f("aigc_unknown", label=aigc.get("label") or "—")
        line = lay.text(L.f("aigc_line", meaning=meaning))
        if aigc.get("producer"):
            line += "<br/>" + lay.text(L.f("aigc_producer", producer=aigc["producer"]))
        pairs.append((L["meta_aigc"], f'<font color="{WARN}">{line}</font>'))
    return pairs


def pixels(lay: Layout, plan: Plan) -> tuple[tuple[int, int], tuple[int, int], int | None]:
    """(size as shown, size as stored, EXIF orientation) of a picture or video, from its metadata: the
    caption and the metadata box print the same size. A video's display size is after its rotation."""
    md = plan.exhibit.metadata or {}
    try:
        stored = (int(md["width"]), int(md["height"]))
    except (KeyError, TypeError, ValueError):
        return plan.px, plan.px, None
    if md.get("display_width") and md.get("display_height"):
        try:
            return (int(md["display_width"]), int(md["display_height"])), stored, None
        except (TypeError, ValueError):
            pass
    raw_exif = md.get("exif")
    exif: dict[str, Any] = raw_exif if isinstance(raw_exif, dict) else {}
    orientation = exif.get("Orientation")
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
    shown = (stored[1], stored[0]) if orientation in (5, 6, 7, 8) else stored
    px = plan.px
    if plan.shape == "image" and px[0] and px[1] and (px[0] > px[1]) != (shown[0] > shown[1]) \
            and shown[0] != shown[1]:
        shown = (shown[1], shown[0])  # the decoder found it turned otherwise than the header said
    return shown, stored, orientation if shown != stored else None


def exhibit(lay: Layout, state: State, plan: Plan, first: bool) -> list[Any]:
    from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

    e, L = plan.exhibit, lay.L
    out: list[Any] = [] if first else [NextPageTemplate("main"), PageBreak()]
    heading = f"{L.f('exhibit_n', n=e.number)}{lay.gap()}{lay.text(e.name)}"
    out += [F.exhibit_mark(lay, state, e), lay.P(heading, "h1", raw=e.name, cjk=True)]
    if e.failed:
        key = "failed_damaged_chat" if plan.shape == "chat" else "failed_damaged"
        failed = (L.f(key, found=e.found_sha256, sha=e.sha256) if e.check == "damaged"
                  else L.f("failed_missing", sha=e.sha256))
        out += [failed_box(lay, failed), Spacer(1, 3 * MM)]
    out += [meta_box(lay, plan), Spacer(1, 4 * MM)]
    full_h = FRAME_H - 2
    shape = plan.shape
    if plan.problem and shape in ("image", "long", "video", "pdf"):
        key = {"image": "image_unreadable", "long": "image_unreadable", "video": "video_unreadable",
               "pdf": "pdf_unreadable"}[shape]
        out.append(lay.P(lay.text(L.f(key, reason=L.note(plan.problem))), "warn"))
        shape = "other"
    if shape == "image":
        (w, h), _stored, _o = pixels(lay, plan)
        out.append(F.picture(lay, state, f"{e.number}:img", plan.px, full_h=full_h,
                                 caption=lay.text.plain(L.f("image_caption", w=w, h=h))))
    elif shape == "long":
        n = len(plan.slices)
        w = plan.px[0]
        out.append(lay.P(lay.text(L.f("slices_note", w=w, h=plan.px[1], n=n)), "body"))
        for k, (top, bottom) in enumerate(plan.slices, 1):
            label = L.f("slice_label", n=e.number, k=k, count=n)
            out += [PageBreak(), lay.P(lay.text(label), "caption"), Spacer(1, 2 * MM),
                    F.picture(lay, state, f"{e.number}:slice{k}", (w, bottom - top), full_h=full_h - 24,
                                  min_fraction=0)]
    elif shape == "video":
        md = e.metadata or {}
        codecs = " / ".join(str(md[k]) for k in ("video_codec", "audio_codec") if md.get(k)) or "—"
        res = (f"{md.get('display_width') or md.get('width')}×{md.get('display_height') or md.get('height')}"
               if md.get("width") else "—")
        fps = f" · {md['frame_rate']:g} fps" if isinstance(md.get("frame_rate"), (int, float)) else ""
        line = L.f("video_line", duration=duration(md.get("duration")) or "—", res=res, codecs=codecs, fps=fps)
        out += [lay.P(lay.text(L["video_facts"]) + "：" + lay.text(line) if L.lang == "zh"
                       else lay.text(L["video_facts"]) + ": " + lay.text(line), "body"),
                lay.P(lay.text(L["video_frames_note"]), "small"), Spacer(1, 2 * MM),
                F.frame_grid(lay, state, plan, full_h)]
    elif shape == "chat":
        out += chat.transcript(lay, plan)
    if shape in ("image", "long"):
        out += ocrchat.machine_read(lay, plan)  # after the picture, never instead of it
    elif shape == "pdf":
        count = len(plan.pdf_pages)
        out.append(lay.P(lay.text(L.f("pdf_pages_note", count=count)), "body"))
        for i, page in enumerate(plan.pdf_pages):
            out += [NextPageTemplate(template_id(page.width, page.height)), PageBreak(),
                    F.inserted(state, plan, i, page)]
        out.append(NextPageTemplate("main"))
    else:
        if shape == "audio":
            md = e.metadata or {}
            line = L.f("audio_line", duration=duration(md.get("duration")) or "—",
                       codec=md.get("audio_codec") or e.mime)
            out.append(lay.P(lay.text(L["audio_facts"]) + ("：" if L.lang == "zh" else ": ") + lay.text(line),
                              "body"))
        note = (L["failed_obtain"] if e.failed else L.f("obtain_attached", name=plan.attachment)
                if plan.attachment else L.f("obtain_original", ref=e.object_ref))
        out.append(lay.P(lay.text(note), "body"))
    return out


def failed_box(lay: Layout, text: str) -> Any:
    """The red box an exhibit that failed the export's check opens with."""
    para = lay.P(f'<font color="{WARN}">{lay.text(text)}</font>', "body")
    return lay.Table([[para]], colWidths=[FRAME_W], hAlign="LEFT",
                     style=lay.table_style([("BOX", (0, 0), (-1, -1), 1.2, STAMP), ("LEFTPADDING", (0, 0), (-1, -1), 6),
                                       ("RIGHTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 4),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))

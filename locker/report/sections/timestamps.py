"""Part C.1 of the appendix: the RFC 3161 trusted timestamps the dispute holds (``locker stamp``,
``export --stamp``, ``bundle --stamp``), each with its time, TSA, serial and the one-line ``openssl
ts -verify`` command that checks it. Read from the custody log the pack prints (``timestamp.added``
entries); a pack of a dispute with no token has no such part."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ... import domain
from ...tsa import openssl_command
from ..page import FRAME_W, MM

if TYPE_CHECKING:
    from ..builder import Layout

# This part's own words, (zh, en).
TEXT = {
    "title": ("C.1 可信时间戳（RFC 3161）", "C.1 Trusted timestamps (RFC 3161)"),
    "intro": ("下列时间戳由时间戳服务机构（TSA）按 RFC 3161 签发，证明所列哈希值（托管日志某条记录的哈希、证据包指纹或证据包的标签清单）"
              "不晚于所示时间已经存在。时间戳文件（.tsr）存放于该纠纷的 timestamps/ 文件夹（证据包 ZIP 中为 data/timestamps/），"
              "同名 .pem 文件为时间戳所携带的证书。在该文件夹中运行每行下方的命令即可离线核对；如需同时核对该机构本身可信，"
              "请改用其公布的根证书作为 -CAfile，并去掉 -partial_chain。",
              "Each timestamp below was issued by a Time-Stamp Authority (TSA) under RFC 3161: it shows that the "
              "hash listed (a custody entry's hash, the pack's fingerprint, or a bundle's tag manifest) existed no "
              "later than the time shown. The token files (.tsr) are in the dispute's timestamps/ folder (data/"
              "timestamps/ in a bundle); the .pem of the same name holds the certificates the token carries. Run the "
              "command under each row in that folder to check it offline; to check that the TSA itself is trusted "
              "too, give its published root certificate as -CAfile and drop -partial_chain."),
    "col_no": ("序号", "No."),
    "col_time": ("TSA 时间（UTC）", "TSA time (UTC)"),
    "col_tsa": ("时间戳机构", "TSA"),
    "col_serial": ("序列号", "Serial"),
    "col_subject": ("所证明的内容", "What it stamps"),
    "custody": ("托管日志第 {what} 条记录的哈希", "hash of custody entry {what}"),
    "pack": ("证据包指纹（{what}）", "pack fingerprint ({what})"),
    "bundle": ("证据包 ZIP 的标签清单（{what}）", "tag manifest of bundle {what}"),
    "check": ("核对命令：", "Check:"),
}


def tokens(lay: Layout) -> list[domain.TimestampAdded]:
    found = []
    for row in lay.snap.custody:
        reading = domain.read_entry(row.action, row.payload)
        if isinstance(reading, domain.TimestampAdded):
            found.append(reading)
    return found


def section(lay: Layout) -> list[Any]:
    from reportlab.platypus import Spacer

    stamped = tokens(lay)
    if not stamped:
        return []
    i = 0 if lay.L.lang == "zh" else 1

    def t(key: str, **values: Any) -> str:
        return TEXT[key][i].format(**values) if values else TEXT[key][i]

    out: list[Any] = [lay.P(lay.text(t("title")), "h2"), lay.P(lay.text(t("intro")), "small"), Spacer(1, 2 * MM)]
    widths = [10 * MM, 34 * MM, 40 * MM, 22 * MM, FRAME_W - 106 * MM]
    rows = [[lay.P(lay.text(t(k)), "cellhead") for k in ("col_no", "col_time", "col_tsa", "col_serial", "col_subject")]]
    commands = []
    for r in stamped:
        kind, _sep, what = (r.subject or "").partition(":")
        subject = t(kind, what=what) if kind in domain.TIMESTAMP_SUBJECTS else (r.subject or "")
        rows.append([str(r.timestamp), lay.fast(lay.mono(r.gen_time or "", 7), widths[1]),
                     lay.fast(lay.text(r.tsa or ""), widths[2]), lay.fast(lay.mono(r.serial or "", 7), widths[3]),
                     lay.fast(lay.text(subject) + "<br/>" + lay.mono(r.sha256 or "", 6.5), widths[4])])
        name = PurePosixPath(r.file or "").name
        certs = name[:-4] + ".pem" if name.endswith(".tsr") else name
        commands.append((r.timestamp, openssl_command(name, r.sha256 or "", certs)))
    out.append(lay.table(rows, widths, zebra=True))
    out.append(Spacer(1, 2 * MM))
    for number, command in commands:
        out.append(lay.P(f"{number}. " + lay.text(t("check")) + " " + lay.mono(command, 7), "small", raw=command))
    return out

"""What the kit's cards and description say, in the kit's language (``--lang``), like the pack's own
labels (:mod:`locker.report.labels`, whose platform names, time sources and kinds are reused)."""

from __future__ import annotations

from typing import Any

from ..report import labels as pack_labels

TEXT: dict[str, tuple[str, str]] = {
    "exhibit_n": ("证据 {n}", "Exhibit {n}"),
    "part": ("（第 {i}/{n} 段）", " (part {i} of {n})"),
    "captured": ("形成时间 {time}（来源：{source}）", "Captured {time} (time from: {source})"),
    "no_time": ("形成时间不明", "Capture time unknown"),
    "hash_line": ("SHA-256 前16位 {hash} · 纠纷 {dispute}", "SHA-256 {hash}… · dispute {dispute}"),
    "copy_note": ("本图为副本，仅作展示；原件与完整哈希见证据材料（PDF）与证据包", "A copy for display. The original and its "
                  "full hash are in the evidence pack (PDF) and the bundle"),
    "failed": ("原件校验失败：本图不能代表原件", "FAILED VERIFICATION: this picture may not show the original"),
    "overview": ("案情概览", "Overview"),
    "made_at": ("制作于 {time}", "Made {time}"),
    "dispute_line": ("纠纷 {dispute}", "Dispute {dispute}"),
    "overview_note": ("各证据原件与完整哈希见证据材料（PDF）与证据包", "Each exhibit's original and full hash are in the "
                      "evidence pack (PDF) and the bundle"),
    "claim": ("诉求", "Claim"),
    "timeline": ("经过", "Timeline"),
    "evidence": ("证据", "Evidence"),
    "more_events": ("……另有 {n} 项，见证据材料", "… {n} more in the evidence pack"),
    "more_messages": ("……另有 {n} 条消息，见证据材料", "… {n} more messages in the evidence pack"),
    "chat_title": ("聊天记录（摘录 {shown}/{total} 条）", "Chat (key messages, {shown} of {total})"),
    "me": ("我", "me"),
    "no_picture": ("此类文件（{kind}）无图像，原件见证据材料", "No picture for this kind of file ({kind}); see the pack"),
    "no_render": ("无法生成图像：{reason}", "No picture could be made: {reason}"),
    "video_frames": ("视频关键帧", "Video key frames"),
    "d_sep": ("，", ", "),
    "d_order": ("订单号 {order}", "order {order}"),
    "d_item": ("商品：{item}", "item: {item}"),
    "d_amount": ("金额 {amount} {currency}", "amount {amount} {currency}"),
    "d_bought": ("下单日期 {date}", "bought on {date}"),
    "d_merchant": ("商家：{merchant}", "merchant: {merchant}"),
    "d_claim": ("诉求：{claim}", "What I ask for: {claim}"),
    "d_event": ("{at}，{text}", "{at}: {text}"),
    "d_evidence": ("证据见图（证据 {numbers}），原件及哈希见证据材料", "Evidence in the pictures (exhibits {numbers}); "
                   "originals and hashes in the evidence pack"),
}


class Labels(pack_labels.Labels):
    def __getitem__(self, key: str) -> str:
        found = TEXT.get(key)
        return found[self._i] if found else super().__getitem__(key)

    def f(self, key: str, **values: Any) -> str:
        return self[key].format(**values)

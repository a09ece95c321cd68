"""Every fixed word the pack prints, in Simplified Chinese and English.

``Labels(lang)[key]`` is the text; ``Labels(lang).f(key, **values)`` formats
it. Keys missing in one language are a bug caught by ``tests/test_export.py``.
"""

from __future__ import annotations

from typing import Any

from ..domain import LANGS  # the order of each TEXT pair

TEXT: dict[str, tuple[str, str]] = {
    # running header, footer, stamp
    "pack": ("证据材料", "Evidence pack"),
    "page_of": ("第 {page} 页 / 共 {total} 页", "Page {page} of {total}"),
    "exhibit_n": ("证据 {n}", "Exhibit {n}"),
    "inserted_page": ("证据 {n} · 原件第 {k}/{count} 页", "Exhibit {n} · its page {k} of {count}"),
    "fingerprint_short": ("包指纹 {short}", "pack fingerprint {short}"),
    # sections and bookmarks
    "cover": ("封面", "Cover"),
    "letter": ("投诉书", "Letter of complaint"),
    "facts": ("事实与理由、诉求", "Facts and claim"),
    "index": ("证据目录", "Exhibit index"),
    "timeline": ("时间线", "Timeline"),
    "exhibits": ("证据", "Exhibits"),
    "appendix": ("附录", "Appendix"),
    "manifest": ("哈希清单", "Hash manifest"),
    "custody": ("保管记录（监管链日志）", "Custody log"),
    "fingerprint": ("证据包指纹", "Pack fingerprint"),
    "howto": ("如何核对哈希值", "How to check a hash"),
    "claim_scope": ("本证据包能证明什么", "What this pack proves"),
    # cover
    "cover_title": ("证 据 材 料", "EVIDENCE PACK"),
    "claimant": ("申请人", "Claimant"),
    "phone": ("联系电话", "Phone"),
    "email": ("电子邮箱", "E-mail"),
    "address": ("地址", "Address"),
    "merchant": ("商家（被申请人）", "Merchant (respondent)"),
    "merchant_address": ("商家地址 / 店铺", "Merchant's address / shop"),
    "platform": ("平台", "Platform"),
    "order_id": ("订单编号", "Order number"),
    "item": ("商品", "Item"),
    "amount": ("金额", "Amount"),
    "purchased_on": ("购买日期", "Purchase date"),
    "status": ("纠纷状态", "Status"),
    "exhibit_count": ("证据数量", "Exhibits"),
    "exhibit_count_value": ("{n} 份，共 {pages} 页", "{n}, {pages} pages in all"),
    "generated_at": ("生成时间", "Generated"),
    "times_in": ("本材料中的时间除特别注明外均为 {tz} 时间。", "Times are in {tz} unless shown otherwise."),
    "fingerprint_cover_note": ("按证据编号顺序对各证据 SHA-256 清单计算的 SHA-256，计算方法见附录。",
                               "SHA-256 over the list of the exhibits' SHA-256 hashes; see the appendix for how."),
    "contents": ("目录", "Contents"),
    "not_given": ("（未填写）", "(not given)"),
    "missing": ("【未填写：{what}】", "[missing: {what}]"),
    # facts
    "summary": ("事实与理由", "Facts"),
    "claim": ("诉求", "Claim"),
    "order": ("订单信息", "The order"),
    "no_summary": ("（未填写事实经过。可用 locker edit {slug} --summary 填写。）",
                   "(No summary of the facts was given; add one with locker edit {slug} --summary.)"),
    "no_claim": ("（未填写诉求。）", "(No claim was given.)"),
    # corrections in the custody log (locker edit): what each field is called there
    "edit_title": ("纠纷名称", "title"),
    "edit_currency": ("币种", "currency"),
    "edit_captured_at_source": ("形成时间来源", "time from"),
    "edit_message": ("第 {k} 条消息", "message {k}"),
    "edit_restored": ("恢复：{reason}", "restored: {reason}"),
    # index
    "col_no": ("序号", "No."),
    "col_name": ("证据名称", "Exhibit"),
    "col_source": ("证据来源", "Source"),
    "col_purpose": ("证明目的", "What it proves"),
    "col_when_hash": ("形成时间 / SHA-256", "Captured / SHA-256"),
    "col_pages": ("页码", "Pages"),
    "index_total": ("本证据包共 {total} 页：证据 {exhibits}，附录 {appendix}。",
                    "This pack has {total} pages: exhibits on {exhibits}, appendix on {appendix}."),
    "index_total_none": ("本证据包共 {total} 页，附录 {appendix}。",
                         "This pack has {total} pages; appendix on {appendix}."),
    "page_one": ("第 {page} 页", "page {page}"),
    "page_range": ("第 {first}–{last} 页", "pages {first}–{last}"),
    "contents_numbers": ("证据 {numbers}（各自的页码见证据目录）", "Exhibits {numbers} (their pages are in the exhibit index)"),
    "left_out": ("未列入本证据包的证据：", "Exhibits of this dispute not in this pack:"),
    "left_out_withdrawn": ("证据 {n}（{name}）已撤回：{reason}", "Exhibit {n} ({name}) was withdrawn: {reason}"),
    "left_out_excluded": ("证据 {n}（{name}）：提交人选择不列入", "Exhibit {n} ({name}): left out by the claimant"),
    "no_exhibits": ("本证据包不含证据。", "This pack holds no exhibits."),
    "signature": ("提交人（签名）：", "Submitted by (signature):"),
    "sign_blank": ("＿＿＿＿＿＿＿＿＿＿＿＿", "________________________"),
    "date_line": ("日期：＿＿＿＿年＿＿月＿＿日", "Date: ______________"),
    "withdrawn_mark": ("（已撤回）", " (withdrawn)"),
    # timeline
    "col_time": ("时间", "Time"),
    "col_what": ("类别", "What"),
    "col_detail": ("内容", "Details"),
    "col_sender": ("发送人", "Sender"),
    "col_message": ("消息内容", "Message"),
    "tl_event": ("事件", "Event"),
    "tl_capture": ("证据形成", "Evidence made"),
    "tl_status": ("状态变更", "Status change"),
    "tl_capture_text": ("证据 {n}「{name}」形成（时间来源：{source}）", "Exhibit {n} “{name}” captured (time from: {source})"),
    "tl_status_text": ("纠纷状态：{before} → {after}", "Status: {before} → {after}"),
    "tl_linked": ("（见证据 {numbers}）", " (see exhibit {numbers})"),
    "tl_deadline": ("期限", "Deadline"),
    "tl_deadline_past": ("【已过期】", "[PAST] "),
    "tl_deadline_day": ("（当日结束前）", " (by the end of the day)"),
    "tl_deadline_done": ("（已于 {at} 标记完成）", " (marked done {at})"),
    "deadline_n": ("期限 {n}", "Deadline {n}"),
    "deadline_done": ("已完成", "done"),
    "timeline_empty": ("时间线暂无记录。", "The timeline is empty."),
    # exhibit sections
    "meta_title": ("证据名称", "Title"),
    "meta_file": ("文件名", "File name"),
    "meta_type": ("类型", "Type"),
    "meta_size": ("大小", "Size"),
    "meta_size_value": ("{n} 字节（{human}）", "{n} bytes ({human})"),
    "meta_sha": ("SHA-256", "SHA-256"),
    "meta_captured": ("形成时间", "Captured at"),
    "meta_ingested": ("入库时间", "Entered the locker"),
    "meta_source": ("证据来源", "Source"),
    "meta_purpose": ("证明目的", "What it proves"),
    "meta_note": ("备注", "Note"),
    "meta_device": ("设备 / EXIF", "Device / EXIF"),
    "meta_location": ("拍摄地点（GPS）", "Location (GPS)"),
    "meta_pixels": ("画面尺寸", "Picture size"),
    "meta_warnings": ("注意", "Warnings"),
    "meta_original": ("原件", "Original"),
    "meta_withdrawn": ("撤回", "Withdrawn"),
    "original_in_locker": ("存于证据库 {ref}（SHA-256 即文件名）", "kept in the locker at {ref} (named by its SHA-256)"),
    "original_attached": ("；已作为附件「{name}」嵌入本 PDF", "; attached to this PDF as “{name}”"),
    "unknown_time": ("未知（无可信来源）", "unknown (no trustworthy source)"),
    "time_source": ("来源：{source}", "from: {source}"),
    "zone_assumed": ("时区推定", "zone assumed"),
    "image_caption": ("原图 {w}×{h} 像素", "original {w}×{h} px"),
    "pixels_turned": ("{w}×{h}（按 EXIF 方向 {o} 转正显示；文件中存储为 {sw}×{sh}）",
                      "{w}×{h} (shown upright by EXIF orientation {o}; stored as {sw}×{sh})"),
    "slices_note": ("本截图较长（{w}×{h} 像素），按页面高度分为 {n} 段，每段以完整宽度单独成页，相邻两段在空白处切分或略有重叠。",
                    "This screenshot is long ({w}×{h} px): it is shown at full width in {n} parts, one per page, "
                    "cut at blank rows or with a small overlap."),
    "slice_label": ("证据 {n} · 第 {k}/{count} 段", "Exhibit {n} · part {k} of {count}"),
    "video_facts": ("视频信息", "Video"),
    "video_line": ("时长 {duration} · 分辨率 {res} · 编码 {codecs}{fps}", "duration {duration} · {res} · codecs {codecs}{fps}"),
    "video_frames_note": ("下列关键帧按时间均匀抽取，时间码为距视频开头的时间。",
                          "Key frames taken evenly over the video; time codes count from its start."),
    "audio_facts": ("音频信息", "Audio"),
    "audio_line": ("时长 {duration} · 编码 {codec}", "duration {duration} · codec {codec}"),
    "chat_facts": ("聊天记录：{count} 条消息，{first} 至 {last}；参与者：{people}",
                   "Chat: {count} messages, {first} to {last}; participants: {people}"),
    "chat_me": ("（本人）", " (me)"),
    "chat_me_note": ("底色标出的是申请人本人发出的消息。", "Shaded rows are the claimant's own messages."),
    "chat_service": ("（系统消息）", "(service message)"),
    "chat_unparsed": ("（未能解析的行）", "(line not understood)"),
    "chat_tz": ("时区：{tz}", "time zone: {tz}"),
    "chat_order_assumed": ("日期顺序为推定：导出文件无法区分日与月，按“{order}”读取。",
                           "Date order assumed: the export cannot tell day from month; read as {order}."),
    "order_dmy": ("日/月/年", "day/month/year"),
    "order_mdy": ("月/日/年", "month/day/year"),
    "chat_none": ("（没有读出消息。）", "(No messages were read.)"),
    "chat_continued": ("（续）", "(cont.)"),
    "chat_corrected": ("（已更正，原文见保管记录第 {seq} 条）", " (corrected; the original text is in custody entry {seq})"),
    # what OCR read from a picture (printed after it, never instead of it)
    "tl_ocr_message": ("聊天截图（机器识别）", "chat screenshot (machine-read)"),
    "tl_ocr_message_text": ("证据 {n}：{who}：{text}", "Exhibit {n}: {who}: {text}"),
    "cust_transcribed": ("机器识别（OCR）：{count} 条消息，{facts} 项订单信息", "machine-read (OCR): {count} messages, {facts} order facts"),
    "ocr_head": ("机器识别文字（OCR）", "Machine-read text (OCR)"),
    "ocr_note": ("以下文字由本地离线 OCR 从上方图片中自动识别，未经人工核对，可能有误，仅便于阅读和检索；以图片原件为准。",
                 "The text below was read from the picture above by offline OCR, unchecked by a person, and may be "
                 "wrong: it is there to read and search. The picture is the evidence."),
    "ocr_fact": ("识别项", "Read"),
    "ocr_value": ("识别结果", "Value"),
    "ocr_fact_order_id": ("订单编号", "Order number"),
    "ocr_fact_amount": ("实付金额", "Amount paid"),
    "ocr_fact_merchant": ("店铺", "Shop"),
    "ocr_fact_item": ("商品", "Item"),
    "ocr_fact_order_time": ("下单时间", "Order time"),
    "ocr_fact_refund_status": ("退款状态", "Refund status"),
    "ocr_chat_facts": ("聊天截图识别出的消息：{count} 条（左侧为对方，右侧为申请人本人；时间取自截图中的时间分隔行）",
                       "Messages read from the chat screenshot: {count} (left: the other party; right: the claimant; "
                       "times from the screenshot's time separators)"),
    "chat_cut": ("（此消息另有 {more} 个字符未打印，全文见原始文件。）",
                 "({more} more characters of this message are not printed; the full text is in the original file.)"),
    "pdf_pages_note": ("以下 {count} 页为该文件自身的页面，按原样缩放置入，每页标注证据编号及其原页码。",
                       "The next {count} pages are the document's own pages, placed as they are (scaled), each "
                       "stamped with the exhibit number and its own page number."),
    "pdf_unreadable": ("无法读取该 PDF 的页面（{reason}），未能置入；原件见下。",
                       "The pages of this PDF could not be read ({reason}); see below for the original."),
    "image_unreadable": ("无法显示该图片（{reason}）；原件见下。", "This picture cannot be shown ({reason}); see below for the original."),
    "video_unreadable": ("无法抽取关键帧（{reason}）；原件见下。", "No key frames could be taken ({reason}); see below for the original."),
    "obtain_original": ("获取原件：本页只列出该文件的元数据。原件未被改动，存于证据库 {ref}；"
                        "可用 locker export --attach-originals 导出带原件附件的证据包，再用 PDF 阅读器的附件面板或 "
                        "pdfdetach -saveall 提取，并按附录所述核对 SHA-256。",
                        "How to obtain the original: this page lists the file's metadata only. The original is "
                        "unchanged in the locker at {ref}; export with --attach-originals to carry it inside this PDF, "
                        "extract it from the PDF reader's attachment panel or with pdfdetach -saveall, and check its "
                        "SHA-256 as the appendix shows."),
    "obtain_attached": ("获取原件：原件已作为附件「{name}」嵌入本 PDF，可在 PDF 阅读器的附件面板中保存，"
                        "或用 pdfdetach -saveall 提取，并按附录所述核对 SHA-256。",
                        "How to obtain the original: it is attached to this PDF as “{name}”; save it from the PDF "
                        "reader's attachment panel or with pdfdetach -saveall, and check its SHA-256 as the appendix "
                        "shows."),
    # an original that failed the export's re-hash (--allow-damaged)
    "failed_stamp": ("原件校验失败", "FAILED VERIFICATION"),
    "failed_damaged": ("原件校验失败：导出时重新计算，该文件现有内容的 SHA-256 为 {found}，与入库时记录的 {sha} 不一致，"
                       "说明它在入库后已被改动或损坏。下面显示的是它现有的内容，并非入库时的原件。",
                       "FAILED VERIFICATION: recomputed at export, the SHA-256 of this file's present content is "
                       "{found}, not the {sha} recorded when it entered the locker: it has been changed or damaged "
                       "since. What is shown below is its present content, not the original as it entered."),
    "failed_damaged_chat": ("原件校验失败：导出时重新计算，该文件现有内容的 SHA-256 为 {found}，与入库时记录的 {sha} 不一致，"
                            "说明它在入库后已被改动或损坏。下面的消息是入库时从原件读出并记入保管记录的，不是从它现有的内容读出的。",
                            "FAILED VERIFICATION: recomputed at export, the SHA-256 of this file's present content is "
                            "{found}, not the {sha} recorded when it entered the locker: it has been changed or "
                            "damaged since. The messages below were read from the original when it entered (and "
                            "are in the custody log), not from its present content."),
    "failed_missing": ("原件校验失败：导出时该文件已不在证据库中或无法读取（入库时记录的 SHA-256 为 {sha}），无法显示其内容。",
                       "FAILED VERIFICATION: at export this file was missing from the locker or could not be read "
                       "(its SHA-256 recorded on entry is {sha}); its content cannot be shown."),
    "failed_cover": ("注意：{count} 份证据原件校验失败（证据 {numbers}）：其现有内容与入库记录不符或已缺失，详见各证据页。",
                     "Note: {count} exhibit(s) FAILED VERIFICATION (exhibit {numbers}): their present content "
                     "differs from what was recorded on entry, or is missing; see their pages."),
    "failed_obtain": ("该文件现有内容与入库记录不符或已缺失，无法从证据库取得入库时的原件；可运行 locker verify 核查。",
                      "This file's present content differs from what was recorded on entry, or is missing: the "
                      "original as it entered cannot be had from the locker; locker verify tells more."),
    "meta_found_sha": ("现有 SHA-256", "SHA-256 now"),
    "original_missing": ("应存于证据库 {ref}，导出时已缺失或无法读取", "belongs in the locker at {ref}; at export it was missing or unreadable"),
    # appendix
    "col_file": ("文件名", "File"),
    "col_size": ("大小（字节）", "Size (bytes)"),
    "col_seq": ("序号", "Seq."),
    "col_action": ("操作", "Action"),
    "col_entry_hash": ("记录哈希（前 16 位）", "Entry hash (first 16)"),
    "custody_intro": ("证据库对每一次操作都记一条日志，每条记录的哈希包含上一条的哈希，构成哈希链；改动任一条都会被 locker verify 发现。",
                      "The locker logs every action; each entry's hash covers the one before it, so a change to any "
                      "entry is found by locker verify."),
    "custody_last": ("日志末条记录的完整哈希：", "Full hash of the last entry:"),
    "fingerprint_none": ("无：本证据包不含证据。", "none: this pack holds no exhibits."),
    "fingerprint_none_short": ("无证据，无包指纹", "no exhibits, no pack fingerprint"),
    "fingerprint_none_how": ("包指纹是对证据清单计算的 SHA-256；本证据包不含证据，清单为空，因此没有包指纹"
                             "（空内容的 SHA-256 不代表任何证据，不作为指纹使用）。",
                             "The pack fingerprint is a SHA-256 over the list of exhibits; this pack holds none, so "
                             "the list is empty and the pack has no fingerprint (the SHA-256 of nothing stands for "
                             "no evidence and is not used as one)."),
    "fingerprint_how": ("计算方法：按证据编号从小到大，每份证据写一行“编号、一个空格、SHA-256（小写十六进制）”，每行以换行符（LF）结尾，"
                        "对全部内容（UTF-8）计算 SHA-256。即对下面的文本计算：",
                        "How it is computed: one line per exhibit in number order — the number, one space, its "
                        "SHA-256 in lower-case hex — each line ending in a line feed (LF); the SHA-256 of all of it "
                        "(UTF-8). That is, of this text:"),
    "fingerprint_check": ("将上面的文本原样存为 manifest.txt（每行以 LF 结尾）后运行 sha256sum manifest.txt，结果应为：",
                          "Save the text above as manifest.txt (each line ending in LF) and run sha256sum "
                          "manifest.txt; it should print:"),
    "howto_intro": ("SHA-256 是文件内容的“指纹”：文件改动哪怕一个字节，指纹就完全不同。取得原件后（证据库中或本 PDF 的附件），"
                    "用下列任一命令计算其 SHA-256，与哈希清单中的值比对：",
                    "A SHA-256 is a fingerprint of a file's content: change one byte and it is entirely different. "
                    "With the original in hand (from the locker, or attached to this PDF), compute its SHA-256 with "
                    "one of these commands and compare it with the manifest:"),
    "howto_linux": ("Linux：", "Linux:"),
    "howto_mac": ("macOS：", "macOS:"),
    "howto_windows": ("Windows（命令提示符）：", "Windows (Command Prompt):"),
    "howto_attachments": ("提取本 PDF 的附件：pdfdetach -saveall 证据包.pdf（poppler-utils），或在 PDF 阅读器的附件面板中保存。",
                          "To extract this PDF's attachments: pdfdetach -saveall pack.pdf (poppler-utils), or save "
                          "them from the PDF reader's attachment panel."),
    "honest_claim": ("本证据包能证明的是：上列每个文件自其在所示时间进入证据库以来未被改动（其 SHA-256 与入库时记录的一致，"
                     "且保管记录的哈希链完整）。入库时间由本机时钟记录；要向第三方证明文件在该时间已经存在，"
                     "需要外部可信时间戳（例如 RFC 3161 时间戳或公证、存证服务）。本证据包不证明文件内容本身的真实性，"
                     "也不证明文件在进入证据库之前未被改动。",
                     "What this pack shows: each file listed is unchanged since it entered the locker at the time "
                     "shown (its SHA-256 equals the one recorded then, and the custody log's hash chain is intact). "
                     "The entry time comes from this computer's clock; to prove to a third party that a file "
                     "existed at that time, an external time-stamp is needed (an RFC 3161 time-stamp token, or a "
                     "notary or evidence-preservation service). The pack does not prove that a file's content is "
                     "true, nor that it was unchanged before it entered the locker."),
    "generated_by": ("本证据包由 locker {version} 离线生成。", "Made offline by locker {version}."),
    # letter
    "letter_title": ("投 诉 书", "LETTER OF COMPLAINT"),
    "letter_to": ("致：消费者协会 / 市场监督管理部门（12315）", "To: the consumer association / market regulator (12315)"),
    "complainant": ("投诉人", "Complainant"),
    "respondent": ("被投诉人", "Respondent"),
    "l_name": ("姓名", "Name"),
    "l_shop": ("名称", "Name"),
    "l_order": ("购买商品", "The purchase"),
    "l_quantity_price": ("商品（规格、数量）", "Item (spec, quantity)"),
    "l_price": ("实付金额", "Price paid"),
    "demand": ("投诉请求", "What I ask for"),
    "negotiation": ("与商家协商经过", "Dealings with the merchant"),
    "no_negotiation": ("（时间线中没有记录与商家的协商。）", "(The timeline records no dealings with the merchant.)"),
    "evidence_list": ("证据清单", "Evidence"),
    "letter_evidence_line": ("证据 {n}：{name}（{pages}）", "Exhibit {n}: {name} ({pages})"),
    "closing": ("此致", "Yours faithfully,"),
    "closing_to": ("消费者协会 / 市场监督管理部门", "the consumer association / market regulator"),
    "letter_sign": ("投诉人（签名）：", "Complainant (signature):"),
    "letter_date": ("日期：{date}", "Date: {date}"),
    "letter_date_blank": ("＿＿＿＿年＿＿月＿＿日", "______________"),
    "field_name": ("投诉人姓名", "complainant's name"),
    "field_phone": ("投诉人联系电话", "complainant's phone"),
    "field_address": ("投诉人地址", "complainant's address"),
    "field_merchant": ("被投诉人名称", "respondent's name"),
    "field_merchant_address": ("被投诉人地址", "respondent's address"),
    "field_item": ("商品", "item"),
    "field_amount": ("金额", "price"),
    "field_order_id": ("订单编号", "order number"),
    "field_purchased_on": ("购买日期", "purchase date"),
    "field_claim": ("投诉请求", "demand"),
    "field_summary": ("事实与理由", "facts"),
    # --- c2pa --- content credentials (C2PA) and the GB 45438-2025 AIGC label, in the exhibit's metadata box
    "meta_c2pa": ("内容凭证（C2PA）", "Content Credentials"),
    "c2pa_signed": ("由 {signer} 签名 · {state}", "signed by {signer} · {state}"),
    "c2pa_valid": ("有效", "valid"),
    "c2pa_untrusted": ("签名与哈希完好，但签名者不在 C2PA 信任列表中", "untrusted: intact, but the signer is not on the C2PA trust list"),
    "c2pa_invalid": ("无效（{codes}）：签名后文件或凭证已被改动", "invalid ({codes}): the file or its credentials changed after signing"),
    "c2pa_not_installed": ("文件带有 C2PA 凭证，未校验：未安装 c2pa-python", "the file carries a C2PA manifest, not checked: c2pa-python is not installed"),
    "c2pa_unsupported_format": ("文件带有 C2PA 凭证，未校验：c2pa-python 不能读取这种格式", "the file carries a C2PA manifest, not checked: c2pa-python does not read this format"),
    "c2pa_remote_manifest": ("凭证存放在网上（{url}），未获取（本程序离线工作）", "kept online at {url}, not fetched (the locker works offline)"),
    "c2pa_generator": ("生成工具：{generator}", "made with: {generator}"),
    "c2pa_actions": ("操作：{actions}", "actions: {actions}"),
    "c2pa_checked": ("入库时离线校验（{tool}，{trust}）", "checked offline when added ({tool}, {trust})"),
    "meta_aigc": ("AI 生成合成内容标识", "AI-generated content label"),
    "aigc_ai_generated": ("属于 AI 生成合成内容", "AI-generated content"),
    "aigc_possibly_ai_generated": ("可能为 AI 生成合成内容", "possibly AI-generated content"),
    "aigc_suspected_ai_generated": ("疑似 AI 生成合成内容", "suspected AI-generated content"),
    "aigc_unknown": ("标识值 {label}", "label value {label}"),
    "aigc_line": ("{meaning}（GB 45438-2025 隐式标识，见文件 XMP 元数据）", "{meaning} (GB 45438-2025 implicit label in the file's XMP)"),
    "aigc_producer": ("生成服务提供者：{producer}", "producer: {producer}"),
}

KINDS = {
    "screenshot": ("截图", "screenshot"), "photo": ("照片", "photo"), "video": ("视频", "video"),
    "audio": ("音频", "audio"), "chat": ("聊天记录", "chat"), "document": ("文件", "document"),
    "other": ("其他", "other"),
}
TIME_SOURCES = {
    "exif": ("照片 EXIF", "photo EXIF"), "container": ("音视频文件元数据", "media container"),
    "filename": ("文件名", "file name"), "chat": ("聊天记录", "chat log"), "email": ("电子邮件", "e-mail"), "user": ("用户填写", "given by the user"),
}
STATUSES = {
    "open": ("待处理", "open"), "negotiating": ("协商中", "negotiating"), "appealed": ("已申请平台介入", "appealed"),
    "complained": ("已投诉", "complained"), "resolved": ("已解决", "resolved"), "rejected": ("被驳回", "rejected"),
    "closed": ("已结束", "closed"),
}
EVENT_TYPES = {
    "purchase": ("购买", "purchase"), "delivery": ("收货", "delivery"), "contact": ("联系商家", "contact"),
    "refusal": ("商家拒绝", "refusal"), "offer": ("商家提议", "offer"), "appeal": ("申诉", "appeal"),
    "complaint": ("投诉", "complaint"), "refund": ("退款", "refund"), "return": ("退货", "return"),
    "note": ("备注", "note"),
}
PLATFORMS = {
    "xiaohongshu": ("小红书", "Xiaohongshu"), "taobao": ("淘宝", "Taobao"), "tmall": ("天猫", "Tmall"),
    "jd": ("京东", "JD.com"), "pinduoduo": ("拼多多", "Pinduoduo"), "douyin": ("抖音", "Douyin"),
    "kuaishou": ("快手", "Kuaishou"), "meituan": ("美团", "Meituan"), "xianyu": ("闲鱼", "Xianyu"),
}
CUSTODY_ACTIONS = {
    "dispute.created": ("创建纠纷", "dispute opened"), "exhibit.added": ("证据入库", "exhibit added"),
    "exhibit.withdrawn": ("撤回证据", "exhibit withdrawn"), "exhibit.reread": ("重新读取聊天记录", "chat read again"), "exhibit.transcribed": ("机器识别（OCR）", "machine-read (OCR)"), "event.added": ("添加事件", "event added"),
    "dispute.status": ("状态变更", "status changed"), "export.created": ("生成证据包", "pack made"),
    "kit.created": ("生成上传材料包", "upload kit made"),
    "dispute.edited": ("更正纠纷信息", "dispute corrected"), "exhibit.edited": ("更正证据信息", "exhibit corrected"),
    "message.edited": ("更正聊天消息", "message corrected"), "exhibit.restored": ("恢复证据", "exhibit restored"),
    "deadline.added": ("添加期限", "deadline added"), "deadline.done": ("期限标记完成", "deadline marked done"),
    "deadline.removed": ("删除期限", "deadline removed"),
    "dispute.renamed": ("更改名称", "renamed"),
    "timestamp.added": ("可信时间戳", "trusted timestamp"),
    "bundle.created": ("生成核验包（ZIP）", "bundle made (ZIP)"),
    "imported": ("从证据包导入", "imported from a bundle"),
    "archived": ("归档到不可更改的远端副本", "archived to a write-once remote"),
    "restored": ("从远端副本恢复", "restored from a remote copy"),
}

# What the locker itself says about a file (ingest warnings, why a picture cannot be shown) is stored and
# reported in English; a Chinese pack prints it in Chinese. An English detail from a decoder may remain
# inside the brackets. A note with no Chinese form here is printed marked as the locker's English text.
NOTES: tuple[tuple[str, str], ...] = (
    (r"its original is missing from the locker.*", "原件已不在证据库中"),
    (r"its original is missing \(run locker verify\)", "原件已不在证据库中（请运行 locker verify）"),
    (r"its original does not match its recorded SHA-256: nothing made from it \(run locker verify\)",
     "原件与入库时记录的 SHA-256 不符：未据其生成任何内容（请运行 locker verify）"),
    (r"no key frames were made", "未能抽取关键帧"),
    (r"no derived files", "未能生成用于显示的图像"),
    (r"it has no pages", "该文件没有页面"),
    (r"its page size is out of range", "页面尺寸超出可处理的范围"),
    (r"cannot decode the image: (.*)", "无法解码该图片：\\1"),
    (r"truncated or damaged image \(header unreadable: (.*)\)", "图片被截断或已损坏（文件头无法读取：\\1）"),
    (r"truncated or damaged image", "图片被截断或已损坏"),
    (r"image too large to decode safely \((.*)\)", "图片过大（\\1），为安全起见未解码"),
    (r"image too large to decode safely", "图片过大，为安全起见未解码"),
    (r"image metadata: (.*)", "图片元数据：\\1"),
    (r"EXIF sub-directory is damaged", "EXIF 子目录已损坏"),
    (r"EXIF GPS directory is damaged", "EXIF GPS 目录已损坏"),
    (r"EXIF DateTimeOriginal is not a usable date: (.*)", "EXIF 拍摄时间（DateTimeOriginal）不是有效日期：\\1"),
    (r"EXIF data is damaged \((.*)\)", "EXIF 数据已损坏（\\1）"),
    (r"cannot read image: (.*)", "无法读取图片：\\1"),
    (r"cannot read file: (.*)", "无法读取文件：\\1"),
    (r"HEIF image larger than (\d+) MiB not opened", "HEIF 图片大于 \\1 MiB，未打开"),
    (r"pillow-heif is not installed: HEIF metadata not read", "未安装 pillow-heif，未读取 HEIF 元数据"),
    (r"cannot read the media container: (.*)", "无法读取音视频容器：\\1"),
    (r"no audio or video stream found", "未找到音频或视频流"),
    (r"media metadata partly unreadable: (.*)", "音视频元数据部分无法读取：\\1"),
    (r"cannot read media file: (.*)", "无法读取音视频文件：\\1"),
    (r"truncated media file: the '(.*)' box runs past the end of the file",
     "音视频文件被截断：“\\1”数据块超出了文件末尾"),
    (r"damaged media file: no 'moov' index \(recording interrupted\?\)",
     "音视频文件已损坏：缺少 moov 索引（录制可能被中断）"),
    (r"truncated media file: RIFF header promises more bytes than present",
     "音视频文件被截断：RIFF 文件头声明的长度大于实际长度"),
    (r"no PDF header in the first 1 KiB", "文件开头 1 KiB 内没有 PDF 文件头"),
    (r"PDF seems truncated.*", "PDF 文件似乎被截断（末尾没有 %%EOF 结束标记）"),
    (r"the document does not embed the font\(s\) (.*?): PDF readers.*",
     "该文件未嵌入字体 \\1：PDF 阅读器会用自带的字体显示这些文字，文字内容不变"),
    (r"cannot read PDF: (.*)", "无法读取 PDF：\\1"),
    (r"page count unknown: .*", "页数未知"),
    (r"could not inspect the file \((.*)\)", "无法检查该文件（\\1）"),
    (r"name says (\S+) \((\.\S*)\) but content is (\S+)", "文件扩展名（\\2）表明是 \\1，但内容是 \\3"),
    (r"could not read it as a chat: (.*)", "未能按聊天记录读取：\\1"),
    # capture times
    (r"GPS time (\S+) is not a whole quarter-hour offset within ±14 h of the local time (\S+): ignored",
     "GPS 时间 \\1 与本地时间 \\2 之差不是 ±14 小时以内的整刻钟时差：未采用"),
    (r"capture time (\S+) lies outside 1970 … now: ignored", "形成时间 \\1 不在 1970 年至今的范围内：未采用"),
    (r"container creation time (.*) lies outside 1970 … now: ignored",
     "容器记录的创建时间 \\1 不在 1970 年至今的范围内：未采用"),
    (r"EXIF DateTimeOriginal (.*) lies outside 1970 … now: ignored",
     "EXIF 拍摄时间（DateTimeOriginal）\\1 不在 1970 年至今的范围内：未采用"),
    (r"truncated (\S+) file: only (\d+) bytes, cut inside its RIFF header",
     "\\1 文件被截断：只有 \\2 字节，截断处在 RIFF 文件头内"),
    # how the file was read
    (r"named by a symbolic link: .*", "由符号链接指定：存入的是链接所指的文件（其路径见元数据 symlink_target）"),
    (r"changed while being read: .*stored as read \((\d+) bytes, hashed as stored\)",
     "读取过程中文件的大小或修改时间发生了变化：按读到的内容存储（\\1 字节，哈希值即所存内容的哈希值）"),
    # chats
    (r"(\d+) \w+? could not be read as chat messages and (?:was|were) kept as unparsed text",
     "有 \\1 处内容无法读取为聊天消息，已作为未解析文本保留"),
    (r"the dates could be day/month or month/day and nothing in the export tells which: read \w+ first "
     r"\((dmy|mdy)\), an assumption; if that is wrong, read it again with --date-order (\w+) \((.*)\)",
     "日期可读作日/月或月/日，导出文件无法判断：推定按 \\1 读取；如有误，可用 \\3 重新读取"),
    (r"the profile's date order (\w+) does not fit these dates \(a day above 12\): read as (\w+)",
     "个人资料中的日期顺序 \\1 与这些日期不符（有大于 12 的日）：按 \\2 读取"),
    (r"looks like a chat export \((\d+) of (\d+) lines start with a date or time and a name\).*",
     "看起来像聊天记录导出文件（\\2 行中有 \\1 行以日期或时间和姓名开头），但不符合本版本能读取的任何聊天格式，"
     "未读取消息；如确为聊天记录，可用 locker reread 加 --chat-format 指定格式重新读取"),
    # e-mail
    (r"e-mail too large to read its headers and text", "邮件过大，未读取邮件头和正文"),
    (r"could not read it as an e-mail \((.*)\)", "无法按电子邮件读取（\\1）"),
    (r"the e-mail's Date header cannot be read: (.*)", "邮件的 Date 头无法读取：\\1"),
    (r"the e-mail's Date header has no zone \(-0000\): not used as the capture time",
     "邮件的 Date 头没有时区（-0000）：未用作形成时间"),
    (r"the e-mail's Date header is out of range: not used as the capture time", "邮件的 Date 头超出范围：未用作形成时间"),
    (r"the e-mail has no Date header", "邮件没有 Date 头"),
    (r"could not read every part of the e-mail \((.*)\)", "邮件的部分内容无法读取（\\1）"),
)


class Labels:
    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"language must be one of {', '.join(LANGS)}")
        self.lang = lang
        self._i = LANGS.index(lang)

    def __getitem__(self, key: str) -> str:
        return TEXT[key][self._i]

    def f(self, key: str, **values: Any) -> str:
        return TEXT[key][self._i].format(**values)

    def _pick(self, table: dict[str, tuple[str, str]], key: str | None, default: str = "") -> str:
        if not key:
            return default
        found = table.get(key)
        return found[self._i] if found else key

    def kind(self, key: str | None) -> str:
        return self._pick(KINDS, key)

    def time_source(self, key: str | None) -> str:
        return self._pick(TIME_SOURCES, key, self["unknown_time"])

    def status(self, key: str | None) -> str:
        return self._pick(STATUSES, key)

    def event_type(self, key: str | None) -> str:
        return self._pick(EVENT_TYPES, key)

    def platform(self, key: str | None) -> str:
        return self._pick(PLATFORMS, key.lower() if key else key)

    def action(self, key: str) -> str:
        return self._pick(CUSTODY_ACTIONS, key)

    def note(self, text: str) -> str:
        """A note the locker made in English (a warning, a reason), in the pack's language."""
        if self.lang == "en" or not text:
            return str(text)
        import re

        from .. import warncodes

        found = warncodes.parse(text)  # a stored warning's code, or the template its English came from
        if found.code is not None:
            return warncodes.show(found, self.lang)
        for pattern, zh in NOTES:
            m = re.fullmatch(pattern, text.strip(), re.DOTALL)
            if m:
                return m.expand(zh)
        return f"（程序提示，英文原文）{text}"

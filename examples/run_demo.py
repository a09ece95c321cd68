"""Run the sample dispute end to end with the real `locker` command.

Reads examples/dispute.toml, generates the evidence (examples/make_evidence.py)
if it is not there yet, and then, in a fresh locker home under examples/home/,
runs and prints each command: profile, new, add (one file each, with its
source and purpose), event, status, transcribe (OCR of the screenshots), show, verify, kit (the upload kit for
the platform's form), and finally export, which
writes the dispute's PDF evidence pack; its path is printed last. Every command
is shown as a person would type it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVIDENCE = HERE / "evidence"
HOME = HERE / "home"


def locker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    shown = " ".join(shlex.quote(a) for a in ("locker", *args))
    print(f"\n$ {shown}", flush=True)
    env = {**os.environ, "LOCKER_HOME": str(HOME)}
    proc = subprocess.run([sys.executable, "-m", "locker", *args], env=env, text=True)
    if check and proc.returncode:
        sys.exit(f"demo: `{shown}` failed with exit status {proc.returncode}")
    return proc


def main() -> None:
    global EVIDENCE, HOME
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=HOME, help="locker home for the demo (wiped first)")
    parser.add_argument("--evidence", type=Path, default=EVIDENCE, help="where the sample evidence is made")
    args = parser.parse_args()
    EVIDENCE, HOME = args.evidence, args.home
    case = tomllib.loads((HERE / "dispute.toml").read_text(encoding="utf-8"))
    if not all((EVIDENCE / x["file"]).exists() for x in case["exhibit"]):
        subprocess.run([sys.executable, str(HERE / "make_evidence.py"), str(EVIDENCE)], check=True)
    shutil.rmtree(HOME, ignore_errors=True)

    locker("profile", "--name", "张三", "--phone", "13800000000", "--address", "上海市徐汇区示例路1号",
           "--tz", "Asia/Shanghai", "--lang", "zh")
    fields = ("platform", "merchant", "merchant_address", "order_id", "item", "amount", "currency", "claim")
    args = [case["title"], "--slug", "earbuds"]
    for key in fields:
        args += [f"--{key.replace('_', '-')}", str(case[key])]
    args += ["--purchased-on", str(case["purchased_on"]), "--summary", case["summary"].strip()]
    locker("new", *args)
    for item in case["exhibit"]:
        extra = ["--me", item["me"]] if "me" in item else []
        locker("add", "earbuds", str(EVIDENCE / item["file"]), "--source", item["source"], "--purpose", item["purpose"],
               *extra)
    locker("event", "earbuds", "下单购买无线蓝牙耳机", "--at", "2025-05-01 20:15", "--type", "purchase", "--exhibit", "1")
    locker("event", "earbuds", "商家拒绝退款：“亲，不支持退款哦”", "--at", "2025-05-03 15:21:40", "--type", "refusal",
           "--exhibit", "4")
    locker("event", "earbuds", "商家仅同意补偿5元红包", "--at", "2025-05-03 15:30:19", "--type", "offer", "--exhibit", "4")
    locker("status", "earbuds", "negotiating", "--note", "商家拒绝退款")
    # The chat held only as a screenshot (and the order page) read by OCR: machine-read messages and
    # order facts, printed in the pack after the pictures.
    locker("ocr", "earbuds")
    locker("show", "earbuds", "6")
    locker("show", "earbuds")
    locker("verify", "earbuds")
    exports = HOME / "disputes" / "earbuds" / "exports"
    # The upload kit for the platform's after-sales form (cards, description cut to the form's limit);
    # the pack made next lists it in its appendix with the cards' hashes.
    kits = set(exports.glob("kit-*/")) if exports.is_dir() else set()
    locker("kit", "earbuds")
    made_kits = sorted(set(exports.glob("kit-*/")) - kits)
    if len(made_kits) != 1:
        sys.exit("demo: `locker kit earbuds` did not write one kit")
    before = set(exports.glob("*.pdf"))
    locker("export", "earbuds")
    made = sorted(set(exports.glob("*.pdf")) - before)
    if len(made) != 1:
        sys.exit("demo: `locker export earbuds` did not write one pack")
    print(f"\nThe sample dispute lives in {HOME / 'disputes' / 'earbuds'}", flush=True)
    print(f"The upload kit: {made_kits[0]}", flush=True)
    print(f"Open it in a browser: .venv/bin/locker --home {HOME} serve --open   (then choose the dispute 'earbuds')",
          flush=True)
    print(f"The evidence pack: {made[0]}", flush=True)


if __name__ == "__main__":
    main()

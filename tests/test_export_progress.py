"""The export's progress bar: it starts before the work does, and it moves through the layout, the
pictures and the final write, reaching exactly the total it announced (issue 10, point 6)."""

from __future__ import annotations

from pathlib import Path

from tests import samples


class Recorder:
    """A progress that records what it is told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str]] = []
        self.total = 0

    def start(self, files: int, total_bytes: int) -> None:
        self.events.append(("start", total_bytes, str(files)))
        self.total = total_bytes

    def advance(self, nbytes: int, name: str) -> None:
        self.events.append(("advance", nbytes, name))


def _export(home: Path, tmp_path: Path, name: str) -> Recorder:
    from locker.paths import Home
    from locker.services import export

    bar = Recorder()
    export.export(Home(home), "earbuds", export.ExportOptions(output=str(tmp_path / name)), progress=bar)
    return bar


def test_the_bar_moves_through_every_phase_and_during_the_final_write(cli, dispute, home, tmp_path) -> None:  # noqa: ANN001
    files = [samples.make_jpeg(tmp_path / f"IMG_{i}.jpg", 800, 600, seed=i) for i in range(4)]
    files.append(samples.make_png(tmp_path / "Screenshot_1.png", 540, 1170))
    files.append(samples.make_plain_chat(tmp_path / "chat.txt"))
    assert cli("add", dispute, *files).code == 0

    for run, name in enumerate(("cold.pdf", "warm.pdf")):  # renditions made, then found in the cache
        bar = _export(home, tmp_path, name)
        kinds = [kind for kind, _n, _name in bar.events]
        assert kinds[0] == "start" and kinds.count("start") == 1, kinds
        assert bar.events[0][2] == "6"  # files: every exhibit in the pack
        advances = [(n, label) for kind, n, label in bar.events if kind == "advance"]
        assert sum(n for n, _label in advances) == bar.total, (run, advances)
        phases = [label.split(":")[0] for _n, label in advances]
        # every exhibit is laid out first; then its pictures are made (or found) while the pass that
        # writes the PDF draws them
        last_layout = max(i for i, p in enumerate(phases) if p == "layout")
        assert phases.index("pictures") > last_layout and phases.index("write") > last_layout
        # the write reports each exhibit as the pass that writes the PDF draws it, not only at the end
        writes = [i for i, p in enumerate(phases) if p == "write"]
        drawn = {label for _n, label in advances[writes[0]:writes[0] + 6]}
        assert len(drawn) == 6, advances
        done_before_last = sum(n for n, _label in advances[:writes[-1]])
        assert done_before_last < bar.total
        # the closing moves it too: each page after the last exhibit's (the appendix) as it is drawn,
        # then the file written; only what is left of the write comes at the end
        closing = [(i, n) for i, (n, label) in enumerate(advances) if label == "write: closing"]
        assert len(closing) >= 3, advances
        assert closing[0][0] > max(i for i, (_n, label) in enumerate(advances[:closing[0][0]])
                                   if label.startswith("write: exhibit"))
        assert sum(n for _i, n in closing) > 0.6 * (bar.total - sum(n for n, _label in advances[:closing[0][0]]))
        # and the first pass's appendix, laid out after the last exhibit, moves the layout's share on
        laid = [i for i, (_n, label) in enumerate(advances) if label == "layout: closing"]
        marks = [i for i, (_n, label) in enumerate(advances) if label.startswith("layout: exhibit")][:6]
        assert laid and laid[0] > marks[-1], advances


def test_the_file_written_out_moves_the_bar_slice_by_slice(cli, dispute, home, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """reportlab hands the whole PDF to one write: it goes to the disk in slices, each moving the bar,
    and the pack is the same whole file."""
    import subprocess

    from locker.report import progress

    files = [samples.make_jpeg(tmp_path / f"IMG_{i}.jpg", 1600, 1200, seed=i) for i in range(3)]
    assert cli("add", dispute, *files).code == 0
    whole = _export(home, tmp_path, "whole.pdf")
    monkeypatch.setattr(progress, "WRITE_SLICE", 16 * 1024)
    sliced = _export(home, tmp_path, "sliced.pdf")

    def closings(bar: Recorder) -> int:
        return sum(1 for kind, _n, label in bar.events if kind == "advance" and label == "write: closing")

    size = (tmp_path / "sliced.pdf").stat().st_size
    assert size > 10 * 16 * 1024
    assert closings(sliced) >= closings(whole) + size // (16 * 1024) - 2, (closings(whole), closings(sliced), size)
    assert sum(n for kind, n, _label in sliced.events if kind == "advance") == sliced.total
    shown = cli("show", dispute, "--json").json["exhibits"]
    for name in ("whole.pdf", "sliced.pdf"):
        text = subprocess.run(["pdftotext", str(tmp_path / name), "-"], capture_output=True, text=True, check=True).stdout
        assert all(e["sha256"] in text for e in shown), name
        assert subprocess.run(["qpdf", "--check", str(tmp_path / name)], capture_output=True).returncode == 0, name

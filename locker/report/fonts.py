"""Finding and registering a CJK TrueType font that reportlab can embed.

reportlab embeds TrueType-outline fonts only (as subsets); CFF/OpenType CJK
fonts (Noto Sans CJK, Source Han, PingFang) fail with "postscript outlines are
not supported", and the built-in ``STSong-Light`` CID font is never embedded.
So the search, in order:

1. ``--font PATH`` (``PATH#N`` picks face N of a .ttc collection), or
   ``$LOCKER_FONT`` (the export service passes either as ``explicit``);
2. the profile's font (``locker profile --font``, kept in ``locker.toml``; same syntax);
3. fontconfig on Linux/BSD: ``fc-list ':lang=zh-cn:fontformat=TrueType'``;
4. the usual places on Linux, macOS and Windows.

Each candidate is loaded and checked for the glyphs a pack needs (Chinese,
Latin letters, digits, ¥). Droid Sans Fallback is passed over: it has no Latin
letters or digits. When nothing is usable, :class:`FontNotFound` says how to
install a font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LockerError
from ..i18n import N_, _

REQUIRED = "证据目录第页共附录哈希时间线投诉书ABCXYZabcxyz0123456789¥：，。（）"
FONT_NAME = "LockerCJK"
MONO_NAME = "LockerCJKMono"

_PREFERRED = ("wqy-microhei", "microhei", "msyh", "wqy-zenhei", "zenhei", "simhei", "stheiti", "songti", "simsun")

_KNOWN_PATHS = (
    # Debian/Ubuntu, Fedora, Arch, openSUSE
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy-microhei.ttc",
    # macOS
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Songti.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
_WINDOWS_FILES = ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc", "Deng.ttf")

NO_FONT = N_("no usable Chinese TrueType font was found, and the evidence pack needs one to print Chinese.")
INSTALL_HOW = N_(
    "Install one: Debian/Ubuntu `sudo apt-get install fonts-wqy-microhei`; Fedora `sudo dnf install "
    "wqy-microhei-fonts`; Arch `sudo pacman -S wqy-microhei`; macOS and Windows have one already "
    "(STHeiti, Microsoft YaHei). Or name a font file with --font PATH (a .ttf or .ttc with TrueType "
    "outlines; OpenType/CFF fonts such as Noto Sans CJK or Source Han Sans cannot be embedded)"
)
INSTALL_HINT = f"{NO_FONT} {INSTALL_HOW}"  # in English; shown translated as _(NO_FONT) + _(INSTALL_HOW)


class FontNotFound(LockerError):
    code = "font"


@dataclass(frozen=True)
class FontChoice:
    path: Path
    index: int
    family: str
    mono_index: int | None = None  # a monospaced face in the same collection (hashes), if any

    def describe(self) -> str:
        return f"{self.family} ({self.path}{'' if self.index == 0 else f'#{self.index}'})"


def parse_spec(spec: str) -> tuple[Path, int]:
    """``/path/font.ttc#1`` → (path, 1); a plain path → (path, 0)."""
    text = spec.strip()
    head, sep, tail = text.rpartition("#")
    if sep and tail.isdigit():
        return Path(head).expanduser(), int(tail)
    return Path(text).expanduser(), 0


_LOADED: dict[tuple[str, int], Any] = {}


def _ttfont(name: str, path: Path, index: int) -> Any:
    """A reportlab TTFont; each face is read once per process (by ttfread, which says what it costs)."""
    from reportlab.pdfbase.ttfonts import TTFont

    from .ttfread import read_font

    key = (str(path), index)
    face = _LOADED.get(key)
    if face is None:
        face = _LOADED[key] = read_font(name, str(path), index)
        return face
    font = TTFont.__new__(TTFont)
    font.__dict__.update(face.__dict__)
    font.fontName = name
    from weakref import WeakKeyDictionary

    font.state = WeakKeyDictionary()  # per-document subsetting state
    return font


def _load(path: Path, index: int) -> Any:
    """The reportlab TTFont of face ``index``, or raise with the reason it is unusable."""
    font = _ttfont(f"probe-{path.name}-{index}", path, index)
    have = font.face.charToGlyph
    missing = [c for c in REQUIRED if ord(c) not in have]
    if missing:
        raise ValueError(f"it has no glyphs for {''.join(missing[:8])}")
    return font


def _try(path: Path, index: int) -> FontChoice | str:
    """A FontChoice, or the reason this face is unusable."""
    if not path.is_file():
        return "no such file"
    try:
        font = _load(path, index)
    except Exception as exc:  # TTFError (CFF outlines, bad index), ValueError (glyphs), OSError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "postscript" in reason.lower():
            reason = "it has PostScript (CFF) outlines, which cannot be embedded; use a TrueType font"
        return reason
    family = font.face.name.decode("latin-1") if isinstance(font.face.name, bytes) else str(font.face.name)
    return FontChoice(path, index, family, _mono_sibling(path, index))


def _mono_sibling(path: Path, index: int) -> int | None:
    """Another face of the same collection whose name says it is monospaced (WenQuanYi Micro Hei Mono)."""
    if path.suffix.lower() != ".ttc":
        return None

    for other in (index + 1, index - 1):
        if other < 0:
            continue
        try:
            face = _ttfont(f"probe-mono-{other}", path, other).face
        except Exception:
            continue
        name = face.name.decode("latin-1") if isinstance(face.name, bytes) else str(face.name)
        if "mono" in name.lower() and all(ord(c) in face.charToGlyph for c in "0123456789abcdef"):
            return other
    return None


def _fontconfig() -> list[tuple[Path, int]]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn:fontformat=TrueType", "-f", "%{file}|%{index}\n"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in sorted(set(out.splitlines())):
        file, _, index = line.rpartition("|")
        if file:
            found.append((Path(file), int(index) if index.isdigit() else 0))
    return found


def _rank(candidate: tuple[Path, int]) -> tuple[int, int, str]:
    name = candidate[0].name.lower()
    preferred = next((i for i, p in enumerate(_PREFERRED) if p in name), len(_PREFERRED))
    return (1 if "droid" in name else 0, preferred * 10 + candidate[1], str(candidate[0]))


def candidates() -> list[tuple[Path, int]]:
    """System fonts worth trying, best first."""
    found = _fontconfig() if sys.platform not in ("win32", "darwin") else []
    found += [(Path(p), 0) for p in _KNOWN_PATHS]
    if sys.platform == "win32":
        windir = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
        found += [(windir / name, 0) for name in _WINDOWS_FILES]
        local = os.environ.get("LOCALAPPDATA")
        if local:
            found += [(Path(local) / "Microsoft" / "Windows" / "Fonts" / name, 0) for name in _WINDOWS_FILES]
    seen: set[tuple[str, int]] = set()
    unique = []
    for path, index in sorted(found, key=_rank):
        key = (str(path), index)
        if key not in seen and path.is_file():
            seen.add(key)
            unique.append((path, index))
    return unique


def find(explicit: str | None = None, configured: str | None = None) -> FontChoice:
    """The font for the pack: --font, else the profile's, else the best system font.

    A font named explicitly that cannot be used is an error naming it and why
    (never a silent fall-back to another font)."""
    for spec, where in ((explicit, N_("--font (or $LOCKER_FONT)")), (configured, N_("the profile's font"))):
        if spec:
            path, index = parse_spec(spec)
            got = _try(path, index)
            if isinstance(got, FontChoice):
                return got
            raise FontNotFound(_("{where} cannot be used: {reason}.").format(where=_(where), reason=got) + " "
                               + _(INSTALL_HOW), path=str(path))
    for path, index in candidates():
        got = _try(path, index)
        if isinstance(got, FontChoice):
            return got
    raise FontNotFound(_(NO_FONT) + " " + _(INSTALL_HOW))


def register(choice: FontChoice) -> tuple[str, str]:
    """Register the chosen faces with reportlab; returns (regular, mono) font names."""
    from reportlab.pdfbase import pdfmetrics

    registered = pdfmetrics.getRegisteredFontNames()
    tag = zlib.crc32(str(choice.path).encode("utf-8", "surrogateescape"))
    key = f"{FONT_NAME}-{tag:08x}-{choice.index}"
    mono_key = f"{MONO_NAME}-{tag:08x}-{choice.mono_index}"
    if key not in registered:
        pdfmetrics.registerFont(_ttfont(key, choice.path, choice.index))
    if choice.mono_index is None:
        return key, key
    if mono_key not in registered:
        pdfmetrics.registerFont(_ttfont(mono_key, choice.path, choice.mono_index))
    return key, mono_key

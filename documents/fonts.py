"""A pre-subset print font: Noto Serif CJK SC cut down to the characters documents use, built once.

WeasyPrint subsets every embedded font on every render. Subsetting the 26 MB Noto Serif CJK collection
(65,000 glyphs) is a large share of each render; subsetting a 4 MB font of the ~7,800 common characters
(GB 2312's 6,763 hanzi, its symbols, ASCII, Latin-1, CJK and full-width punctuation) is cheaper and the PDF
is less than half the size (measured in tests/bench/bench_render.py; decisions D49).

Nothing is lost: the stylesheet names the subset first and the full Noto family after it, so a character
outside the subset (a rare character in a name, 䶮) is drawn from the full font, which is then embedded too.
The subset is built by ``manage.py build_print_font`` (minutes of CPU, once per machine or image) into
``PRINT_FONT_PATH`` (default var/fonts/); without the file the renderer uses the system font as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
SOURCE_FAMILY = "Noto Serif CJK SC"
FAMILY = "Yizhan Serif CJK SC"  # "CJK" in the name: what pdffonts checks look for
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "fonts" / "YizhanSerifCJKSC-common.otf"


def font_path() -> Path:
    return Path(os.environ.get("PRINT_FONT_PATH") or DEFAULT_PATH)


def common_characters() -> set[int]:
    """ASCII, Latin-1, general and CJK punctuation, enclosed numbers, full-width forms, and every character
    of GB 2312 (its symbols and both levels of hanzi)."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2010, 0x2070))
    chars |= set(range(0x2100, 0x2200)) | set(range(0x2460, 0x2500)) | set(range(0x3000, 0x3040))
    chars |= set(range(0xFF00, 0xFFF0))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


def _collection_index(source: Path, family: str) -> int:
    from fontTools.ttLib import TTCollection

    with TTCollection(str(source), lazy=True) as collection:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(1) == family:
                return index
    raise LookupError(f"{family} is not in {source}")


def build_subset(target: Path, *, characters: Iterable[int] | None = None, source: Path = SOURCE) -> Path:
    """Write ``source``'s SC face, cut to ``characters`` (the common set by default), to ``target`` under
    the family name ``FAMILY`` (so it never shadows the full font). Written to a temporary name and moved,
    so a renderer never reads half a file."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    partial = target.with_suffix(".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with TTFont(str(source), fontNumber=_collection_index(source, SOURCE_FAMILY), lazy=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=set(characters) if characters is not None else common_characters())
        subsetter.subset(font)
        for record in font["name"].names:
            if record.nameID in (1, 16):
                record.string = FAMILY
            elif record.nameID == 4:
                record.string = f"{FAMILY} Regular"
            elif record.nameID == 6:
                record.string = FAMILY.replace(" ", "") + "-Regular"
        font.save(str(partial))
    partial.replace(target)
    return target


def with_subset_font(css: str, path: Path | None) -> str:
    """``css`` with the subset declared and named before the full Noto family wherever that is named."""
    if path is None or not path.is_file():
        return css
    face = f"@font-face {{ font-family: '{FAMILY}'; src: url('{path.as_uri()}'); }}\n"
    return face + css.replace(f'"{SOURCE_FAMILY}"', f'"{FAMILY}", "{SOURCE_FAMILY}"')

"""PAdES signatures with pyHanko: one incremental update per signer, into a new visible field.

Each call appends a revision to the file and leaves every earlier byte as it was, so every earlier
signature stays valid and a verifier can see exactly what each signer saw (ESL art. 13: any later change
is detectable). The visible part is one image drawn here: the signer's handwriting with the name and the
time under it, or a round red seal for an organisation's e-seal.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import shutil
import subprocess
from functools import cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points, origin bottom left

# The appearance is drawn at this many pixels per point: sharp when zoomed or printed, still small.
_SCALE = 4
_INK = (20, 30, 60, 255)
_SEAL_RED = (200, 16, 16, 255)


class SigningFailed(Exception):
    """pyHanko could not sign (a damaged revision, a field name clash): a programming or data error."""


def pdf_sign(
    *,
    pdf_bytes: bytes,
    field_name: str,
    box: Box,
    page: int,
    signer_name: str,
    reason: str,
    location: str,
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    handwriting_png: bytes | None = None,
    signed_at: dt.datetime | None = None,
    caption: str = "",
) -> bytes:
    """Return ``pdf_bytes`` with one more revision: an approval signature (subfilter ETSI.CAdES.detached,
    i.e. PAdES) by ``cert`` in a new visible field ``field_name`` at ``box`` on ``page`` (0-based; -1 for
    the last page). With ``handwriting_png`` the field shows the handwriting over the name and time;
    without it, a round seal with ``signer_name`` (an organisation's e-seal). ``caption`` is an optional
    line above the name (the capacity, e.g. 申请人)."""
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
    from pyhanko.sign import fields, signers
    from pyhanko.stamp.static import StaticStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    x1, y1, x2, y2 = box
    if x2 - x1 < 40 or y2 - y1 < 30:
        raise ValueError("signature box too small")
    when = timezone.localtime(signed_at or timezone.now())
    size = (round((x2 - x1) * _SCALE), round((y2 - y1) * _SCALE))
    if handwriting_png is not None:
        picture = signature_appearance(size=size, handwriting_png=handwriting_png, signer_name=signer_name,
                                       signed_at=when, caption=caption)
    else:
        picture = seal_appearance(size=size, organisation_name=signer_name, signed_at=when)

    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in chain]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location, name=signer_name,
    )
    style = StaticStampStyle(
        background=PdfImage(picture), background_opacity=1.0, border_width=0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID, margins=Margins.uniform(0),
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )
    pdf_signer = signers.PdfSigner(
        meta, signer, stamp_style=style,
        new_field_spec=fields.SigFieldSpec(field_name, on_page=page, box=(round(x1), round(y1), round(x2), round(y2))),
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
        out = pdf_signer.sign_pdf(writer)
    except Exception as exc:  # pyHanko raises several unrelated types; the caller needs one
        raise SigningFailed(f"pyHanko could not sign field {field_name!r}: {exc}") from exc
    result: bytes = out.getvalue()
    if not result.startswith(pdf_bytes):
        raise SigningFailed("the signed file does not extend the original: not an incremental update")
    return result


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# --- The visible appearance ----------------------------------------------------------------------------


@cache
def _cjk_font_file() -> tuple[str, int]:
    """The file and face index of a Chinese sans font, as fontconfig picks it (Noto Sans CJK SC here)."""
    fc_match = shutil.which("fc-match")
    if fc_match is not None:
        # A fixed argument list to a binary found on PATH: no user input reaches it.
        result = subprocess.run(  # noqa: S603
            [fc_match, "-f", "%{file}|%{index}", "sans-serif:lang=zh-cn"],
            capture_output=True, text=True, timeout=20, check=False,
        )
        path, _, index = result.stdout.strip().partition("|")
        if path:
            return path, int(index or 0)
    raise RuntimeError("No font covering Chinese is installed (fonts-noto-cjk): cannot draw the signature.")


def _font(px: int) -> ImageFont.FreeTypeFont:
    path, index = _cjk_font_file()
    return ImageFont.truetype(path, px, index=index)


def _time_text(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S}"


def _ink_only(handwriting: Image.Image) -> Image.Image:
    """The strokes on a transparent ground, cropped to where there is ink (a canvas export or a photo)."""
    image = handwriting.convert("RGBA")
    alpha = image.getchannel("A")
    if alpha.getextrema()[0] == 255:  # opaque: treat dark pixels as ink
        grey = image.convert("L")
        alpha = grey.point(lambda v: 255 if v < 160 else 0)
    bbox = alpha.getbbox()
    if bbox is None:
        return Image.new("RGBA", (1, 1), (0, 0, 0, 0))
    ink = Image.new("RGBA", image.size, _INK)
    ink.putalpha(alpha)
    return ink.crop(bbox)


def signature_appearance(*, size: tuple[int, int], handwriting_png: bytes, signer_name: str,
                         signed_at: dt.datetime, caption: str = "") -> Image.Image:
    """The handwriting in the upper part, the name and time in small print below."""
    width, height = size
    picture = Image.new("RGBA", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(picture)
    lines = [text for text in (caption, signer_name, _time_text(signed_at)) if text]
    # A long capacity or name ("X有限公司的委托代理人") is set smaller rather than cut off at the box's edge.
    px = max(height // 9, 12)
    small = _font(px)
    room = width - width // 20
    widest = max(draw.textlength(text, font=small) for text in lines)
    if widest > room:
        small = _font(max(int(px * room / widest), 8))
    line = small.getbbox("国")[3] + height // 40
    text_top = height - line * len(lines) - height // 30
    with Image.open(io.BytesIO(handwriting_png)) as raw:
        ink = _ink_only(raw)
    area = (width - width // 20, text_top - height // 20)
    if ink.width > 1 and area[1] > 10:
        ratio = min(area[0] / ink.width, area[1] / ink.height)
        ink = ink.resize((max(int(ink.width * ratio), 1), max(int(ink.height * ratio), 1)), Image.Resampling.LANCZOS)
        picture.alpha_composite(ink, ((width - ink.width) // 2, int(max((text_top - ink.height) // 2, 0))))
    y = text_top
    for text in lines:
        draw.text((width // 40, y), text, font=small, fill=_INK)
        y += line
    return picture


def seal_appearance(*, size: tuple[int, int], organisation_name: str, signed_at: dt.datetime) -> Image.Image:
    """A round red seal with the organisation's name over a star, and the time in small print: beside the
    seal in a wide box, under it in a square one (the rendered documents give the seal a round box)."""
    width, height = size
    picture = Image.new("RGBA", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(picture)
    wide = width >= height * 1.6
    small = _font(max(min(width, height) // 13, 12))
    line = int(small.getbbox("国")[3]) + 4
    if wide:
        diameter = min(height - height // 10, width // 2)
        left, top = width // 20, (height - diameter) // 2
    else:
        diameter = int(min(width - width // 10, height - 2 * line - height // 20))
        left, top = (width - diameter) // 2, height // 40
    ring = max(diameter // 28, 3)
    draw.ellipse((left, top, left + diameter, top + diameter), outline=_SEAL_RED, width=ring)
    cx, cy, r = left + diameter / 2, top + diameter / 2, diameter / 7
    star = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        star.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(star, fill=_SEAL_RED)
    # The name across the upper half in up to two lines, sized to stay inside the ring.
    name = organisation_name.strip()
    rows = [name] if len(name) <= 7 else [name[: (len(name) + 1) // 2], name[(len(name) + 1) // 2:]]
    longest = max(len(row) for row in rows)
    font = _font(max(min(int(diameter * 0.5 / longest), diameter // 6), 10))
    ascent = font.getbbox("国")[3]
    y = cy - r - diameter // 25 - (ascent + ascent // 6) * len(rows)
    for row in rows:
        row_width = draw.textlength(row, font=font)
        draw.text((cx - row_width / 2, y), row, font=font, fill=_SEAL_RED)
        y += ascent + ascent // 6
    label = _font(max(diameter // 9, 10))
    draw.text((cx - draw.textlength("电子印章", font=label) / 2, cy + r + diameter // 20), "电子印章", font=label,
              fill=_SEAL_RED)
    day, time = _time_text(signed_at)[:10], _time_text(signed_at)[11:]
    if wide:
        text_left = left + diameter + width // 30
        draw.text((text_left, height // 2 - line), day, font=small, fill=_INK)
        draw.text((text_left, height // 2 + height // 40), time, font=small, fill=_INK)
    else:
        stamp = f"{day} {time}"
        draw.text(((width - draw.textlength(stamp, font=small)) / 2, top + diameter + 4), stamp, font=small,
                  fill=_INK)
    return picture

"""The printable warranty certificate (reportlab): fields, signature and verification code.

The PDF is a rendering of ``cert.json``; the JSON and its signature are what verification
uses. Deterministic bytes for a given certificate (``invariant=1``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from synthos.warranty.certificate import SignedCertificate

_STYLES = getSampleStyleSheet()
SMALL = ParagraphStyle("cert_small", parent=_STYLES["BodyText"], fontSize=8, leading=10)
MONO = ParagraphStyle("cert_mono", parent=SMALL, fontName="Courier", fontSize=7.5)
CODE = ParagraphStyle("cert_code", parent=_STYLES["BodyText"], fontName="Courier-Bold",
                      fontSize=16, leading=20)


def render_certificate_pdf(signed: SignedCertificate, out: Path | BinaryIO) -> None:
    """Write the certificate PDF to a path or a binary file object."""
    c = signed.certificate
    lo, hi = c.collapse_risk_interval
    fields = [
        ("certificate id", c.certificate_id), ("validation id", c.validation_id),
        ("dataset sha256", c.dataset_sha256),
        ("dataset", f"{c.dataset_rows:,} rows, {c.dataset_columns} columns"),
        ("reference sha256", c.reference_sha256),
        ("collapse risk", f"{c.collapse_risk:.1f} / 100 ({c.risk_level}), 90% range "
                          f"{lo:.1f} - {hi:.1f}, confidence {c.confidence_level}"),
        ("thresholds", f"risk < {c.thresholds.max_collapse_risk:g}, range upper < "
                       f"{c.thresholds.max_interval_upper:g}, rows >= {c.thresholds.min_rows}, "
                       f"claim deviation {c.thresholds.claim_deviation:g} points"),
        ("engine", f"synthos {c.engine_version}"),
        ("issued", f"{c.issued_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("expires", f"{c.expires_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("signing key id", c.key_id),
    ]
    mono = {"dataset sha256", "reference sha256", "certificate id", "signing key id"}
    rows = [[name, Paragraph(value, MONO if name in mono else SMALL)] for name, value in fields]
    table = Table(rows, colWidths=[34 * mm, 140 * mm])
    table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
    story: list[Flowable] = [
        Paragraph("Synthos collapse-risk warranty certificate", _STYLES["Title"]), table,
        Spacer(1, 5 * mm), Paragraph("Verification code", _STYLES["Heading3"]),
        Paragraph(signed.verification_code, CODE),
        Paragraph(f"{signed.algorithm} signature (base64):", SMALL),
        *[Paragraph(line, MONO) for line in textwrap.wrap(signed.signature, 64)],
        Spacer(1, 4 * mm), Paragraph("Coverage terms", _STYLES["Heading3"]),
        *[Paragraph(f"{i}. {term}", SMALL) for i, term in enumerate(c.coverage_terms, 1)],
        Spacer(1, 4 * mm), Paragraph(
            "Verify offline with the published public key: <font face='Courier'>synthos "
            "verify-certificate cert.json --public-key synthos-warranty.pub.pem --dataset "
            "FILE</font>. The signature covers the certificate JSON, not this PDF.", SMALL),
    ]
    target = str(out) if isinstance(out, Path) else out
    SimpleDocTemplate(target, pagesize=A4, invariant=1, title="Synthos warranty certificate",
                      leftMargin=18 * mm, rightMargin=18 * mm).build(story)

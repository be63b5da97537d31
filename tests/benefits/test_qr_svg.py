"""The credit code's SVG carries its own white background: readable on a dark page or rendered transparent."""

from __future__ import annotations

from xml.etree import ElementTree

from benefits import qr

SVG = "{http://www.w3.org/2000/svg}"


def test_the_svg_paints_a_white_background_under_the_modules():
    _, svg = qr.render("XYF1.test.code")
    root = ElementTree.fromstring(svg)
    shapes = [child for child in root if child.tag in (f"{SVG}rect", f"{SVG}path")]
    background = shapes[0]
    assert background.tag == f"{SVG}rect", svg[:300]
    assert background.get("fill") in ("white", "#fff", "#ffffff")
    assert (background.get("width"), background.get("height")) in (("100%", "100%"),
                                                                    (root.get("width"), root.get("height")))
    assert shapes[-1].tag == f"{SVG}path"  # the dark modules are drawn on top

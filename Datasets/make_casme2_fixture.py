#!/usr/bin/env python3
"""Writes the tiny CASME II and SAMM fixtures used by Tests/MERDataTests.

    pip install pillow openpyxl
    python3 Datasets/make_casme2_fixture.py

The output (Datasets/fixtures/) is committed: CI has no pip. Frames are 24x20 gray JPEGs
whose brightness encodes the frame number (value = 10 + frame % 200), so a decoding test
can tell which frame was loaded. Only the frames the sheets reference are written.
"""
import io, os, re, shutil, zipfile
from PIL import Image
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def frame(path, n, w=24, h=20):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    v = 10 + n % 200
    img = Image.new("L", (w, h), v)
    # a small bright square whose position also depends on n, so frames differ spatially
    for y in range(4, 8):
        for x in range(2 + n % 10, 6 + n % 10):
            img.putpixel((x, y), 250)
    img.save(path, quality=95)


def casme2():
    root = os.path.join(OUT, "casme2")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion"])
    happiness_rich = CellRichText(["happi", TextBlock(InlineFont(b=True), "ness")])
    rows = [
        # subject, clip, onset, apex, offset, AUs, emotion        frames actually used (onset, apex)
        (1, "EP02_01f", 46, 59, 86, "12", "happiness"),          # 46, 59; numeric subject 1 -> sub01
        (1, "EP03_02", 10, "/", 30, "9", "disgust"),              # apex '/' -> (10+30)//2 = 20
        (1, "EP04_02", 5, 5, 25, "14", "repression"),             # apex == onset -> 15
        (1, "EP05_03", 1, 3, 9, "4", "others"),
        None,                                                     # an empty row
        ("sub02", "EP01_11f", 12, 14, 20, "1+2", "surprise "),    # stray space in the emotion
        ("sub02 ", "EP02_04f ", 1, 2, 4, "9+10", "Disgust"),     # stray spaces, capital letter
        ("sub02", "EP03_01", 3, 5, 7, "4+7", "fear"),             # excluded in 5-class
        ("sub02", "EP04_05", 2, 4, 6, "R12", "others"),
        ("03", "EP01_01", 1, 2, 3, "12", happiness_rich),         # rich-text runs
        ("03", "EP02_02", 4, 6, 8, "15", "INLINE:sadness"),       # rewritten as an inline string below
        ("03", "EP03_03", 1, 2, 3, "14", "repression"),
        ("03", "EP04_04", 1, 3, 5, "1+2", "surprise"),
    ]
    used = []
    for r in rows:
        if r is None:
            ws.append([])
            continue
        ws.append(list(r))
        subj, clip, onset, apex, offset = r[0], r[1].strip(), r[2], r[3], r[4]
        if apex == "/" or apex == onset:
            apex = (onset + offset) // 2
        s = re.sub(r"\D", "", str(subj))
        used.append(("sub%02d" % int(s), clip, onset, apex))
    path = os.path.join(root, "CASME2-coding-20140508.xlsx")
    wb.save(path)
    inline_string(path)
    for subj, clip, onset, apex in used:
        for n in (onset, apex):
            frame(os.path.join(root, "CASME2_RAW_selected", subj, clip, "img%d.jpg" % n), n)
            if subj == "sub02":
                frame(os.path.join(root, "Cropped", subj, clip, "reg_img%d.jpg" % n), n, 16, 16)


def inline_string(path):
    """openpyxl (3.1) writes every string inline. Real sheets (Excel) use a shared-string
    table, so move all strings into xl/sharedStrings.xml (rich-text runs kept), except the
    'INLINE:' cell, which stays an inline string (without the marker)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    table = []

    def repl(m):
        ref, attrs, body = m.group(1), m.group(2), m.group(3)
        if "INLINE:" in body:
            return '<c r="%s"%s t="inlineStr"><is>%s</is></c>' % (ref, attrs, body.replace("INLINE:", ""))
        if body not in table:
            table.append(body)
        return '<c r="%s"%s t="s"><v>%d</v></c>' % (ref, attrs, table.index(body))

    sheet = re.sub(r'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"><is>(.*?)</is></c>', repl, sheet, flags=re.S)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/sharedStrings.xml"] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>'
                                     % (ns, len(table), len(table), "".join("<si>%s</si>" % b for b in table))).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)


def samm():
    root = os.path.join(OUT, "samm")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    wb = Workbook()
    ws = wb.active
    ws.append(["SAMM Micro-Movement Database (fixture)"])
    ws.append(["Coded with FACS; frames at 200 fps"])
    ws.append([])
    ws.append(["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame",
               "Duration", "Type", "Action Units", "Notes", "Estimated Emotion"])
    rows = [
        (6, "006_1_2", 1, 5562, 5588, 5632, "Anger"),
        (6, "006_1_3", 1, 3912, 3948, 3988, "Happiness"),
        ("006", "006_2_1", 2, 100, "/", 140, "Disgust"),          # excluded in 5-class; apex '/'
        ("007", "007_3_1", 3, 901, 950, 999, "Contempt"),          # files written with 4 digits
        (7, "007_5_2", 5, 12, 20, 30, "Surprise"),
        (7, "007_6_1", 6, 40, 45, 60, "Other"),
    ]
    for subj, clip, ind, onset, apex, offset, emo in rows:
        ws.append([subj, clip, ind, onset, apex, offset, offset - onset if isinstance(offset, int) else None,
                   "Micro - 1/2", "AU4", "", emo])
        if apex == "/":
            apex = (onset + offset) // 2
        s = "%03d" % int(subj)
        for n in (onset, apex):
            name = "%s_%04d.jpg" % (s, n) if clip == "007_3_1" else "%s_%05d.jpg" % (s, n)
            frame(os.path.join(root, "SAMM", s, clip, name), n, 20, 24)
    path = os.path.join(root, "SAMM_Micro_FACS_Codes_v2.xlsx")
    wb.save(path)
    inline_string(path)


if __name__ == "__main__":
    casme2()
    samm()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print("fixtures written to %s (%d bytes)" % (OUT, total))

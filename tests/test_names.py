"""Names cleaned for print: every stop name of the bundled TfL and HART files, and exact cases."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from gradient import datasets
from gradient.story.names import ACRONYMS, display_name, display_names, interchanges


def tfl_names() -> list[str]:
    raw = pd.read_csv(datasets.get_path("tfl_sequences"), sep="\t", dtype=str, usecols=["Stop_Name"])
    return sorted(set(raw["Stop_Name"].dropna()))


def hart_names() -> list[str]:
    with zipfile.ZipFile(datasets.get_path("hart_gtfs")) as z, z.open("stops.txt") as f:
        return sorted(set(pd.read_csv(f, dtype=str, encoding="utf-8-sig")["stop_name"].dropna()))


def leftovers(name: str) -> list[str]:
    """What should never reach a reader: codes, ``@``, double spaces, capitals that are not acronyms."""
    found = re.findall(r"[<>#@\[\]]|  ", name)
    for word in re.findall(r"[^\s/()\-]+", name):
        letters = re.sub(r"[^A-Za-z]", "", word)
        if (
            len(letters) >= 2
            and letters.isupper()
            and word.strip(".,'") not in ACRONYMS
            and "." not in word
            and not re.search(r"\d", word)
        ):
            found.append(word)
    return found


@pytest.mark.parametrize("source", ["tfl", "hart"])
def test_every_bundled_stop_name_is_printable(source):
    names = tfl_names() if source == "tfl" else hart_names()
    assert len(names) > (10_000 if source == "tfl" else 1_700)
    cleaned = display_names(pd.Series(names))
    bad = {n: (d, leftovers(d)) for n, d in zip(names, cleaned) if leftovers(d) or not d}
    assert bad == {}
    again = display_names(cleaned)
    assert (again == cleaned).all()  # idempotent: a cleaned name comes back unchanged


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("STRATFORD BUS STATION <>#[DLR]", "Stratford Bus Station"),
        ("KINGSWAY / HOLBORN STATION <>", "Kingsway / Holborn Station"),
        ("TOTTENHAM CRT RD STN <>/GT RUSSELL ST", "Tottenham Court Road Station / Great Russell St"),
        ("HAIL & RIDE FINSBURY PARK / ENDYMION GT", "Hail & Ride Finsbury Park / Endymion Gate"),
        ("ALEXANDRA ROAD / WIMBLEDON STN # <> >T<", "Alexandra Road / Wimbledon Station"),
        ("BECKENHAM JUNCTION STN # >T</ RECTORY RD", "Beckenham Junction Station / Rectory Road"),
        ("ADDINGTON VILLAGE INTERCHANGE <T>", "Addington Village Interchange"),
        ("HOXTON STATION >LOL< / GEFFRYE MUSEUM", "Hoxton Station / Geffrye Museum"),
        ("BANKSIDE PIER. >R<", "Bankside Pier"),
        ("ALBERT BRIDGE / CADOGAN PIER <R>", "Albert Bridge / Cadogan Pier"),
        ("ST MARY'S CHURCH / PUTNEY PIER >R<", "St Mary's Church / Putney Pier"),
        ("ST THOMAS' HOSPITAL / A & E DEPARTMENT", "St Thomas' Hospital / A&E Department"),
        ("ST PANCRAS INTERN'L & KING'S X STNS<>#", "St Pancras International & King's Cross Stations"),
        ("HAMMERSMITH STN / H'SMITH & CITY LINE<>", "Hammersmith Station / Hammersmith & City Line"),
        ("HARROW-ON-THE-HILL STATION", "Harrow-on-the-Hill Station"),
        ("ALDWYCH / THE ROYAL COURTS OF JUSTICE", "Aldwych / The Royal Courts of Justice"),
        ("TOTTENHAM LANE Y M C A", "Tottenham Lane YMCA"),
        ("H M PRISON PENTONVILLE", "HM Prison Pentonville"),
        ("R A F NORTHOLT", "RAF Northolt"),
        ("CHARLES I I STREET", "Charles II Street"),
        ("HAYMARKET / CHARLES II STREET", "Haymarket / Charles II Street"),
        ("HAIL & RIDE MONKEN HADLEY C OF E SCHOOL", "Hail & Ride Monken Hadley C of E School"),
        ("SIR JOHN MCDOUGAL GARDENS", "Sir John McDougal Gardens"),
        ("PECKHAM 7TH DAY ADVENTIST CHURCH", "Peckham 7th Day Adventist Church"),
        ("FINCHLEY ROAD / O2 CENTRE", "Finchley Road / O2 Centre"),
        ("EMPRESS STATE BLDG / W BROMPTON STN <> #", "Empress State Building / West Brompton Station"),
        ("QUEEN MARY'S HOSPITAL / 'B' BLOCK", "Queen Mary's Hospital / 'B' Block"),
        ("WATERLOO TP EB", "Waterloo (eastbound)"),
        ("HAIL &  RIDE HELENA ROAD", "Hail & Ride Helena Road"),
        ("DE VERE GARDENS", "De Vere Gardens"),
        ("HMS BELFAST TP WB", "HMS Belfast (westbound)"),
        ("7th Av @ 22nd St", "7th Av at 22nd St"),
        ("50th St @Bordeaux Vil", "50th St at Bordeaux Vil"),
        ("34th St @  M L King Jr Blvd", "34th St at M L King Jr Blvd"),
        ("21st Av @ 21St St", "21st Av at 21st St"),
        ("Us HWY 41 @ Ellsberry Rd", "US Hwy 41 at Ellsberry Rd"),
        ("Dale Mabry Hwy @ Colby Rd F/S", "Dale Mabry Hwy at Colby Rd"),
        ("Orient Rd and Cayuga St NB", "Orient Rd and Cayuga St (northbound)"),
        ("Amalie Arena Station (8)", "Amalie Arena Station"),
        ("Dale Mabry Hwy @ N. Lakeview Dr (2n", "Dale Mabry Hwy at N. Lakeview Dr"),
        ("21st St N. Star Drive ( South)", "21st St N. Star Drive (South)"),
        ("Hillsborough Av @ Lois Av (Hooters)", "Hillsborough Av at Lois Av (Hooters)"),
        ("Wal-Mart @ MLK and CR 579", "Wal-Mart at MLK and CR 579"),
        ("McKinley Dr @ D.O.T. Bldg", "McKinley Dr at D.O.T. Bldg"),
        ("Hackney Central", "Hackney Central"),
        ("B's stop #2", "B's stop #2"),  # a number sign before a digit is a number, not National Rail
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # text, escaped where it is shown
        ("x </script><script>alert(3)</script>", "x </script><script>alert(3)</script>"),  # no "< / script>"
        ("{# gone #}", "{# gone #}"),
        ("Armenia/Howard Avenue", "Armenia / Howard Avenue"),
        ("24/7 Shop", "24/7 Shop"),
        ("", ""),
    ],
)
def test_display_name(raw, clean):
    assert display_name(raw) == clean
    assert display_name(clean) == clean


def test_missing_names_are_empty():
    assert display_name(None) == display_name(np.nan) == display_name(pd.NA) == ""
    s = pd.Series(["ILFORD STATION #", None, "ILFORD STATION #"], index=[5, 6, 7])
    assert display_names(s).tolist() == ["Ilford Station", "", "Ilford Station"]
    assert display_names(s).index.tolist() == [5, 6, 7]
    assert display_names(["A @ B", None]) == ["A at B", ""]


def test_interchanges_in_words():
    assert interchanges("STRATFORD BUS STATION <>#[DLR]") == ["Underground", "National Rail", "DLR"]
    assert interchanges("WIMBLEDON STATION # <> >T<") == ["National Rail", "Underground", "Tram"]
    assert interchanges("CANONBURY STATION >LOL<") == ["Overground"]
    assert interchanges("PUTNEY PIER >R<") == ["River Bus"]
    assert interchanges("B's stop #2") == interchanges(None) == []


def test_names_import_nothing_heavy():
    code = "import sys, gradient.story.names; print(sorted(m for m in ('pandas', 'numpy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""How fast `leaddesk import` is, against `sqlite-utils insert --csv` of the same file.

    .venv/bin/python bench/import.py [--rows 100000] [--shape crm|seed] [--runs 1] [--keep DIR] [--no-memory] [--json]

1. Generates a CSV of --rows leads (seeded, so every run gets the same file) with a realistic
   share of trouble: about 5% bad rows (malformed emails, no name and no company, an unknown
   source, a bad priority) and about 5% duplicates (half repeat an earlier row's phone or email,
   half match a lead already in the desk).
   --shape crm (default): a CRM export's columns (Salesforce-like: First Name, Last Name, Title,
   Company, Email, Phone, Mobile, Street, City, State/Province, Zip/Postal Code, Country, Lead Source,
   Lead Status, Industry, Rating, Website, Description, ...), two of them unknown to leaddesk (kept in
   the description). --shape seed: seed 001's ten columns.
2. Imports it with leaddesk in-process (`Desk.import_leads`, every row validated) into a desk that
   already holds the leads the database duplicates match, and separately runs `sqlite-utils insert
   --csv` (a subprocess, the same file, no validation) into an empty database, and raw `sqlite3`
   (`csv.reader` and one `executemany` into a table of the file's columns, no index, no validation);
   all timed end to end. --runs N repeats the three and takes each one's median.
3. Prints rows/s for all three and the ratio to sqlite-utils (target: leaddesk >= 2x sqlite-utils).
4. Unless --no-memory: imports a tenth of the file and the whole file again, each in a fresh child
   process, and prints each one's RSS before the import and its peak (Linux): memory that does not
   grow with the file gives about the same peak for both.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRM_HEADERS = ["First Name", "Last Name", "Title", "Company", "Email", "Phone", "Mobile", "Street", "City",
               "State/Province", "Zip/Postal Code", "Country", "Lead Source", "Lead Status", "Industry", "Rating",
               "Website", "Description", "Priority", "Tags", "Expected Revenue", "Follow-up"]
SEED_HEADERS = ["contact_name", "phone", "source", "company_name", "email", "address", "city", "state", "priority",
                "description"]
FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "José", "Kate", "Liam", "Mia",
         "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yara", "Zoë"]
LAST = ["Lee", "Stone", "García", "Müller", "Okafor", "Smith", "Tanaka", "Novak", "Rossi", "Dubois", "Khan",
        "Olsen", "Silva", "Nguyen", "Brown", "Kowalski", "Haddad", "Ivanova", "Walsh", "Moreau"]
COMPANIES = ["Acme", "Bolt Ltd", "Cobalt Inc", "Delta Roofing", "Evergreen LLC", "Fjord AS", "Globex", "Helix",
             "Initech", "Juniper Co", "Kestrel", "Lumen", "Monarch", "Nimbus", "Orbit", "Pioneer", "Quartz"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "acme.example.com", "bolt.co.uk", "proton.me", "mail.de"]
CITIES = [("Boston", "MA", "02108"), ("Austin", "TX", "73301"), ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"),
          ("Miami", "FL", "33101"), ("Chicago", "IL", "60601"), ("Portland", "OR", "97201")]
SOURCES = ["Referral", "website", "Cold Call", "Event", "Social Media", "Advertisement", "Partner"]
STATUSES = ["New", "Contacted", "Engaged", "Attempted to contact", ""]
INDUSTRIES = ["Retail", "Software", "Health", "Construction", "Finance", ""]
TITLES = ["CEO", "Buyer", "Office Manager", "CTO", "Owner", "Head of Ops", ""]


def phone_for(i: int) -> str:
    """A distinct, valid US number for row i (area codes that exist, 555-01xx style kept realistic)."""
    area = (212, 312, 415, 512, 617, 646, 718, 303, 206, 305)[i % 10]
    rest = 2000000 + (i * 7919) % 7999999
    return f"+1 ({area}) {rest // 10000:03d}-{rest % 10000:04d}"


def generate(path: Path, rows: int, shape: str, seed: int = 4) -> tuple[int, Path]:
    """Write the bench CSV; also a small CSV of the leads the database duplicates will match.
    Returns (bad rows written, path of the pre-existing leads file)."""
    rng = random.Random(seed)
    existing = path.with_name("existing.csv")
    bad = 0
    pre = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", phone_for(10_000_000 + k), f"pre{k}@{rng.choice(DOMAINS)}")
           for k in range(max(rows // 40, 10))]
    with existing.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Phone", "Email", "Lead Source"])
        for name, phone, email in pre:
            writer.writerow([name, phone, email, "Referral"])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CRM_HEADERS if shape == "crm" else SEED_HEADERS)
        earlier: list[tuple[str, str]] = []
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.choice(COMPANIES)
            phone, email = phone_for(i), f"{first.lower()[:3]}.{last.lower()[:3]}{i}@{rng.choice(DOMAINS)}"
            city, state, zipcode = rng.choice(CITIES)
            source, priority = rng.choice(SOURCES), rng.choice(["low", "medium", "high", "", "2"])
            description = rng.choice(["", "Asked for a quote", "Met at the fair;\nwants a call back", "VIP"])
            roll = rng.random()
            if roll < 0.05:  # a bad row
                bad += 1
                kind = rng.randrange(4)
                if kind == 0:
                    email = email.replace("@", " at ")
                elif kind == 1:
                    first = last = company = ""
                elif kind == 2:
                    source = "Carrier pigeon"
                else:
                    priority = "very high"
            elif roll < 0.075 and earlier:  # repeats an earlier row of the file
                phone, email = rng.choice(earlier)
            elif roll < 0.10:  # matches a lead already in the desk
                _name, phone, email = rng.choice(pre)
            if len(earlier) < 5000 and rng.random() < 0.1:
                earlier.append((phone, email))
            if shape == "crm":
                website = f"www.{(company or 'no').split()[0].lower()}.com"
                writer.writerow([first, last, rng.choice(TITLES), company, email, phone, "", f"{i} Main St", city,
                                 state, zipcode, "USA", source, rng.choice(STATUSES), rng.choice(INDUSTRIES),
                                 rng.choice(["Hot", "Warm", "Cold", ""]), website,
                                 description, priority, rng.choice(["", "vip", "q3,expo"]),
                                 rng.choice(["", "1200", "15,000.50"]), rng.choice(["", "2026-12-01", "+7d"])])
            else:
                writer.writerow([f"{first} {last}".strip(), phone, source, company, email, f"{i} Main St", city,
                                 state, priority, description])
    return bad, existing


def fresh_desk(directory: Path, name: str, existing: Path | None) -> Path:
    """A new sales desk, holding the pre-existing leads when given."""
    from leaddesk.settings import Settings
    from leaddesk.store.desk import Desk

    db = directory / name
    desk = Desk.open(str(db), login="bench", settings=Settings())
    desk.init("sales")
    if existing is not None:
        desk.import_leads(str(existing), errors_path=str(directory / "existing.errors.csv"))
    desk.close()
    return db


def run_leaddesk(db: Path, csv_path: Path, errors: Path) -> tuple[float, dict[str, object]]:
    """Import in-process; (seconds, summary)."""
    from leaddesk.settings import Settings
    from leaddesk.store.desk import Desk

    start = time.perf_counter()
    desk = Desk.open(str(db), login="bench", settings=Settings())
    summary = desk.import_leads(str(csv_path), errors_path=str(errors))
    desk.close()
    return time.perf_counter() - start, summary


def run_sqlite_utils(db: Path, csv_path: Path) -> float:
    """`sqlite-utils insert DB leads FILE --csv` as a subprocess; seconds."""
    exe = Path(sys.executable).with_name("sqlite-utils")
    command = [str(exe) if exe.exists() else "sqlite-utils", "insert", str(db), "leads", str(csv_path), "--csv"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def run_executemany(db: Path, csv_path: Path) -> float:
    """Raw sqlite3: read the CSV and insert every row with one executemany into a plain table; seconds."""
    import sqlite3

    start = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        with csv_path.open(newline="", encoding="utf-8") as src:
            reader = csv.reader(src)
            header = next(reader)
            columns = ", ".join(f'"{i}"' for i in range(len(header)))
            conn.execute(f"CREATE TABLE leads ({columns})")
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO leads VALUES ({', '.join('?' for _ in header)})", reader)
            conn.execute("COMMIT")
    finally:
        conn.close()
    return time.perf_counter() - start


CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
desk = Desk.open({db!r}, login="bench", settings=Settings())
def vm(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key))
before = vm("VmRSS:")
desk.import_leads({csv!r}, errors_path={errors!r})
print(before, vm("VmHWM:"))
"""


def rss_kib(directory: Path, csv_path: Path, name: str) -> tuple[int, int]:
    """(RSS just before the import, peak RSS) of a fresh process importing a file into a new desk, in KiB
    (Linux /proc; the helper process is not counted)."""
    db = fresh_desk(directory, f"{name}.db", None)
    code = CHILD.format(root=str(ROOT), db=str(db), csv=str(csv_path), errors=str(directory / f"{name}.err.csv"))
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    before, peak = done.stdout.strip().splitlines()[-1].split()
    return int(before), int(peak)


def head_of(csv_path: Path, rows: int, target: Path) -> Path:
    """The first `rows` data rows of a CSV (quoted newlines respected)."""
    with csv_path.open(newline="", encoding="utf-8") as src, target.open("w", newline="", encoding="utf-8") as out:
        reader, writer = csv.reader(src), csv.writer(out)
        for n, row in enumerate(reader):
            if n > rows:
                break
            writer.writerow(row)
    return target


def measure(rows: int, shape: str, directory: Path, *, runs: int = 1, memory: bool = True,
            speed: bool = True) -> dict[str, object]:
    """Generate the file in `directory`, then time the three imports (`runs` times each, medians) and, with
    `memory`, the peak RSS of importing a tenth of the file and all of it."""
    csv_path = directory / f"leads-{shape}-{rows}.csv"
    bad, existing = generate(csv_path, rows, shape)
    result: dict[str, object] = {"rows": rows, "shape": shape, "bad_rows_generated": bad, "runs": runs}
    if speed:
        ours: list[float] = []
        theirs: list[float] = []
        raw: list[float] = []
        summary: dict[str, object] = {}
        for n in range(runs):
            db = fresh_desk(directory, f"leaddesk-{n}.db", existing)
            seconds, summary = run_leaddesk(db, csv_path, directory / f"errors-{n}.csv")
            ours.append(seconds)
            su_db = directory / f"sqlite-utils-{n}.db"
            su_db.unlink(missing_ok=True)
            theirs.append(run_sqlite_utils(su_db, csv_path))
            raw_db = directory / f"executemany-{n}.db"
            raw_db.unlink(missing_ok=True)
            raw.append(run_executemany(raw_db, csv_path))
        seconds, su_seconds, raw_seconds = (statistics.median(t) for t in (ours, theirs, raw))
        result.update({
            "leaddesk": {"seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                         **{k: summary[k] for k in ("imported", "duplicates", "rejected", "warnings")}},
            "sqlite_utils": {"seconds": round(su_seconds, 2), "rows_per_s": round(rows / su_seconds)},
            "executemany": {"seconds": round(raw_seconds, 3), "rows_per_s": round(rows / raw_seconds)},
            "ratio": round(su_seconds / seconds, 2), "target": 2.0,
        })
    if memory:
        tenth = head_of(csv_path, max(rows // 10, 1), directory / "tenth.csv")
        rss = {}
        for label, path in (("tenth", tenth), ("all", csv_path)):
            before, peak = rss_kib(directory, path, label)
            rss[label] = {"before_mib": round(before / 1024, 1), "peak_mib": round(peak / 1024, 1)}
        result["rss"] = rss
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--shape", choices=("crm", "seed"), default="crm")
    parser.add_argument("--runs", type=int, default=1, help="Repeat the three imports; report the medians.")
    parser.add_argument("--keep", type=Path, help="Keep the files in this folder.")
    parser.add_argument("--no-memory", action="store_true", help="Skip the peak-memory comparison.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="leaddesk-import-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        result = measure(args.rows, args.shape, directory, runs=args.runs, memory=not args.no_memory)
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lead, su, raw = result["leaddesk"], result["sqlite_utils"], result["executemany"]
    assert isinstance(lead, dict) and isinstance(su, dict) and isinstance(raw, dict)
    print(f"{args.rows} rows ({args.shape} columns; {result['bad_rows_generated']} generated bad, duplicates in file"
          " and in the desk)")
    print(f"  leaddesk import      {lead['seconds']:>7} s  {lead['rows_per_s']:>8} rows/s  "
          f"(imported {lead['imported']}, duplicates {lead['duplicates']}, rejected {lead['rejected']}, "
          f"warnings {lead['warnings']})")
    print(f"  sqlite-utils --csv   {su['seconds']:>7} s  {su['rows_per_s']:>8} rows/s  (no validation)")
    print(f"  sqlite3 executemany  {raw['seconds']:>7} s  {raw['rows_per_s']:>8} rows/s  (no validation, no index)")
    verdict = "within target" if float(result["ratio"]) >= 2.0 else "BELOW target"  # type: ignore[arg-type]
    print(f"  ratio                {result['ratio']}x  (target >= 2x: {verdict})")
    if "rss" in result:
        rss = result["rss"]
        assert isinstance(rss, dict)
        for label, what in (("tenth", "a tenth of the file"), ("all", "the whole file")):
            print(f"  RSS, {what:<19} {rss[label]['before_mib']} MiB before the import, peak"
                  f" {rss[label]['peak_mib']} MiB")


if __name__ == "__main__":
    main()

"""A realistic demo desk, built through the service API so every rule and history row applies.

    from leaddesk.store.demo import build_demo
    build_demo(Path("demo.db"))                      # ~300 leads, the "sales" preset
    build_demo(Path("jobs.db"), preset="services")

Everything is drawn from `random.Random(seed)` and placed relative to the clock's
"now" (`leaddesk.clock`), so a frozen clock and a seed give the same desk twice.
Each lead is planned first (its fields and the steps of its life: calls, status
changes, qualifying, deal stages, won or lost, follow-up), the steps of all leads
are then replayed in time order with the clock frozen at each step's moment.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store.db import Database
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NeedsChoice, RuleError

MANAGER = ("kim", "Kim Alvarez")
REPS = (("ann", "Ann Carter"), ("raj", "Raj Patel"), ("mia", "Mia Chen"), ("tom", "Tom Becker"),
        ("lee", "Lee Jordan"))
REP_WEIGHTS = (24, 22, 22, 18, 14)

FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "William", "Elizabeth",
    "Carlos", "Susan", "Daniel", "Jessica", "Matthew", "Sarah", "Anthony", "Karen", "Kevin", "Nancy",
    "Brian", "Lisa", "George", "Sandra", "Kenji", "Ashley", "Andre", "Emily", "Omar", "Michelle",
    "Luis", "Amanda", "Ryan", "Melissa", "Jacob", "Stephanie", "Tyrone", "Rebecca", "Ethan", "Priya",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Lopez",
    "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Nguyen", "Hill",
    "Flores", "Green", "Adams", "Nelson", "Baker", "Campbell", "Mitchell", "Roberts", "O'Connor", "Kowalski",
)
COMPANIES = (
    "Bluestone Logistics", "Harbor Point Dental", "Redwood Analytics", "Summit Ridge Properties",
    "Copperleaf Bakery", "Northwind Freight", "Brightwater Clinic", "Ironclad Fabrication",
    "Maple & Main Realty",
    "Silverline Insurance", "Granite State Builders", "Lakeshore Hotels", "Evergreen Senior Living",
    "Pinecrest Academy", "Atlas Tool & Die", "Sunrise Pediatrics", "Blue Heron Brewing", "Keystone Legal",
    "Cobalt Software", "Prairie Wind Energy", "Oakmont Veterinary", "Riverbend Storage",
    "Trident Marine Supply",
    "Westfield Auto Group", "Golden Gate Catering", "Cedar Hollow Farms", "Metro Print Works",
    "Highland Fitness", "Clearview Optometry", "Union Square Partners", "Falcon Security Services",
    "Heritage Home Health", "Mosaic Design Studio", "Beacon Street Books", "Canyon Ridge Apartments",
    "Parkside Family Dental", "Quarry Hill Landscaping", "Starlight Events", "Tidewater Seafood",
    "Vantage Accounting",
)
JOB_TITLES = ("Office Manager", "Operations Director", "Facilities Manager", "CFO", "IT Manager", "Owner",
              "Purchasing Lead", "VP Sales", "Property Manager", "Practice Manager", "General Manager", "COO")
# city, state, ZIP prefix, area code, zone
CITIES = (
    ("Seattle", "WA", "981", "206", "North"), ("Portland", "OR", "972", "503", "North"),
    ("Minneapolis", "MN", "554", "612", "North"), ("Austin", "TX", "787", "512", "South"),
    ("Atlanta", "GA", "303", "404", "South"), ("Miami", "FL", "331", "305", "South"),
    ("Nashville", "TN", "372", "615", "South"), ("Boston", "MA", "021", "617", "East"),
    ("New York", "NY", "100", "212", "East"), ("Philadelphia", "PA", "191", "215", "East"),
    ("San Francisco", "CA", "941", "415", "West"), ("Los Angeles", "CA", "900", "213", "West"),
    ("San Diego", "CA", "921", "619", "West"), ("Chicago", "IL", "606", "312", "Central"),
    ("Denver", "CO", "802", "303", "Central"), ("Kansas City", "MO", "641", "816", "Central"),
)
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Elm St", "Lakeview Rd",
           "Washington Ave", "Pine St", "Hillcrest Dr", "Market St", "Riverside Dr", "2nd Ave",
           "Highland Ave", "Sunset Blvd")
# Phones in the fictional 555-0100..0199 range, in the formats people type.
PHONE_STYLES = ("({a}) 555-{n}", "+1 {a} 555 {n}", "{a}.555.{n}", "{a}-555-{n}", "1 ({a}) 555-{n}")
ODD_PHONES = ("n/a", "ext. 12", "front desk, ext. 12")
PARTNERS = (
    ("Summit Roofing Co.", "referrals@summitroofing.example.com",
     (("Co-op mailer", 65_000), ("Referral bonuses", 40_000), ("Yard signs", 18_500))),
    ("Keystone Realty Group", "partners@keystonerealty.example.com",
     (("Open house sponsorship", 120_000), ("Buyer guide ad", 45_000), ("Referral bonuses", 60_000),
      ("Closing gift baskets", 22_000))),
    ("Bayside Property Management", "vendors@baysidepm.example.org",
     (("Tenant newsletter ad", 30_000), ("Referral bonuses", 75_000))),
    ("Brightline Insurance Agency", "hello@brightline-insurance.example.com",
     (("Claims desk flyers", 15_000), ("Lunch and learn", 52_000), ("Referral bonuses", 35_000))),
)
TAGS = ("hot", "budget-approved", "decision-maker", "needs-quote", "vip", "trade-show", "callback",
        "multi-site", "urgent-timeline", "price-sensitive")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SOURCE_DETAILS = {
    "Website Form": ("Contact page", "Pricing page", "Free estimate form", "Chat widget"),
    "Social Media": ("LinkedIn", "Facebook", "Instagram", "Nextdoor"),
    "Event": ("Spring Home Show", "Chamber of Commerce mixer", "Regional trade expo", "Lunch-and-learn"),
    "Advertisement": ("Search ad", "Radio spot", "Direct mailer", "Billboard on I-90"),
    "Inbound Email": ("info@ mailbox", "sales@ mailbox"),
    "Cold Outreach": ("Q4 outbound list", "LinkedIn sequence"),
    "Cold Call": ("Industry list", "Lapsed accounts list"),
    "Phone Call": ("Main line", "After-hours line"),
}
CAMPAIGNS = {"Advertisement": (("Fall promo", "cpc"), ("Radio week", "radio"), ("Mailer wave 2", "mail")),
             "Social Media": (("Referral push", "social"), ("Customer stories", "social")),
             "Website Form": (("Brand search", "cpc"), ("", "organic")),
             "Cold Outreach": (("Outbound sprint", "email"),)}
LOST_NOTES = {
    "Unable to reach": ("Three calls and two emails, no reply.", "Number disconnected.",
                        "Voicemail full and emails bounce."),
    "Declined service": ("Decided to hold off until spring.", "Will handle it in-house.",
                         "Not interested after seeing the scope."),
    "Not a fit": ("Too small for our minimum engagement.", "Outside our service area.",
                  "Needs something we do not offer."),
    "No response": ("Went quiet after the proposal.", "No reply to the last three follow-ups."),
    "Chose another provider": ("Went with a cheaper quote.", "Stayed with their current vendor.",
                               "Chose a local competitor."),
    "Budget": ("No budget until next fiscal year.", "Price was above what they can spend.",
               "Budget was cut this quarter."),
}
EARLY_REASONS = ("Unable to reach", "No response", "Not a fit", "Declined service")
LATE_REASONS = ("Chose another provider", "Budget", "No response", "Declined service")

# Activity bodies by the moment of a lead's life they belong to: (kind, template).
MOMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "intro": (("note", "Came in through {source}; asked about {what}."),
              ("note", "Asked for a call back about {what}."),
              ("note", "Referred by {partner}.")),
    "prospect": (("note", "Outbound prospect ({source}); likely needs {what}."),
                 ("note", "On the {source} list; {org} could use {what}.")),
    "attempt": (("call", "No answer, left voicemail."),
                ("call", "Left a voicemail asking for a good time to talk."),
                ("email", "Sent intro email with a short overview."),
                ("call", "Line busy, will try again {day}."),
                ("email", "Follow-up email sent, no reply yet.")),
    "contact": (("call", "Spoke with {first}: interested in {what}, wants rough pricing."),
                ("call", "Good call with {first}; they want this done within {weeks} weeks."),
                ("call", "{first} confirmed they make the decision; asked for references."),
                ("email", "{first} replied, prefers email; sent a few questions about scope.")),
    "engage": (("meeting", "Discovery meeting with {first} and two of their team."),
               ("meeting", "Demo for {org}: went well, questions about integrations."),
               ("email", "Sent case study and two references."),
               ("call", "Walked {first} through pricing options.")),
    "estimate": (("meeting", "Site visit at {street}: measured up and took photos."),
                 ("email", "Emailed the written estimate to {first}."),
                 ("call", "Went over the estimate line by line with {first}.")),
    "schedule": (("note", "Crew booked for {day} morning."),
                 ("call", "Confirmed access and parking with {first}."),
                 ("email", "Sent the appointment confirmation.")),
    "qualify": (("meeting", "Proposal walkthrough with {first}; budget around ${amount}."),
                ("note", "Budget confirmed around ${amount}; {first} signs off."),
                ("email", "Sent the proposal for {what}.")),
    "won": (("note", "Signed! Kick-off on {day}."), ("call", "Thank-you call to {first}."),
            ("email", "Sent the welcome pack and invoice."), ("note", "Deposit received.")),
    "lost": (("email", "Sent a polite close-out email."), ("call", "Last try: no interest for now."),
             ("note", "Closing this one out.")),
    "nurture": (("note", "Check back next quarter."), ("call", "{first} called back: interested again."),
                ("email", "Re-engaged by the newsletter; asked for an updated quote.")),
    "extra": (("note", "Prefers email after 3pm."),
              ("note", "Ask for {first} directly; front desk screens calls."),
              ("note", "Also has a second site in {city}."),
              ("call", "Quick check-in; {first} is comparing options."),
              ("note", "Mentioned a competitor's quote of about ${amount}.")),
}


_QuoteLine = tuple[str, tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class _Spec:
    """What a preset's demo looks like."""

    restricted_type: str
    skipped_status: str
    open_moments: tuple[str, ...]
    # item -> (titles, (low, high) value in dollars, quote lines: (description, quantity range, price range))
    items: dict[str, tuple[tuple[str, ...], tuple[int, int], tuple[_QuoteLine, ...]]]
    company_share: dict[str, float]
    intake_sources: tuple[str, ...]
    outbound_sources: tuple[str, ...] = ()


SPECS = {
    "sales": _Spec(
        restricted_type="Inbound", skipped_status="Attempted to contact",
        open_moments=("intro", "attempt", "contact", "engage"),
        items={
            "Consulting": (("CRM rollout consulting", "Sales process review", "Data migration project",
                            "Integration workshop"), (8_000, 60_000),
                           (("Consulting day", (3, 20), (1_200, 1_800)),
                            ("Project management", (1, 1), (2_000, 5_000)))),
            "Software license": (("25-seat license", "Team plan upgrade", "Enterprise license renewal",
                                  "Pilot for the ops team"), (3_000, 45_000),
                                 (("User license (annual)", (10, 50), (300, 900)),)),
            "Support plan": (("Premium support plan", "Annual support renewal", "24/7 support add-on"),
                             (1_500, 18_000), (("Support plan (annual)", (1, 1), (1_500, 12_000)),)),
            "Training": (("Admin training", "Onboarding bootcamp", "Reporting workshop"), (1_200, 9_000),
                         (("Training session (half day)", (1, 4), (900, 1_800)),)),
        },
        company_share={"Inbound": 0.85, "Outbound": 0.97},
        intake_sources=("Website Form", "Inbound Email", "Partner", "Advertisement"),
        outbound_sources=("Cold Outreach", "Cold Call", "Event", "Social Media"),
    ),
    "services": _Spec(
        restricted_type="Residential", skipped_status="Estimating",
        open_moments=("intro", "attempt", "contact", "estimate", "schedule"),
        items={
            "Installation": (("New roof installation", "Furnace replacement", "Central AC install",
                              "Water heater install", "Gutter installation"), (4_000, 28_000),
                             (("Materials", (1, 1), (1_500, 12_000)), ("Labor (hours)", (8, 60), (85, 125)),
                              ("Disposal and permits", (1, 1), (250, 900)))),
            "Repair": (("Roof leak repair", "Storm damage repair", "Furnace repair", "Burst pipe repair",
                        "Siding repair"), (300, 4_500),
                       (("Labor (hours)", (2, 12), (85, 125)), ("Parts", (1, 1), (80, 900)))),
            "Maintenance": (("Annual HVAC tune-up", "Gutter cleaning", "Roof inspection",
                             "Boiler service plan"), (150, 1_800), (("Service visit", (1, 2), (150, 450)),)),
            "Estimate": (("Kitchen remodel estimate", "Bathroom remodel estimate", "Deck build estimate",
                          "Window replacement estimate"), (5_000, 40_000),
                         (("Materials", (1, 1), (2_000, 15_000)), ("Labor (hours)", (20, 120), (75, 110)))),
        },
        company_share={"Residential": 0.1, "Commercial": 0.95},
        intake_sources=("Website Form", "Partner", "Advertisement", "Social Media"),
    ),
}

NO_ITEM: tuple[tuple[str, ...], tuple[int, int], tuple[_QuoteLine, ...]] = ((), (500, 5_000), ())


@dataclass
class _Lead:
    """One planned lead: its fields, its life as steps, and what happened when it was replayed."""

    index: int
    owner: str
    creator: str
    type_name: str
    final: str
    flow: str
    values: dict[str, Any]
    created: datetime
    steps: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (action, actor, args)
    times: list[datetime] = field(default_factory=list)
    digits: tuple[str, str] | None = None  # (area code, line) of a normal phone
    repeat: bool = False
    household: bool = False
    number: int | None = None
    deal_id: int | None = None


def build_demo(path: Path, *, seed: int = 7, leads: int = 300, preset: str = "sales") -> dict[str, int]:
    """Create a demo database at `path` and return how many leads, customers, deals... it holds.

    Refuses (RuleError) a file that already holds data or is not a leaddesk database;
    a file it created is removed again if building fails.
    """
    if preset not in SPECS:
        raise RuleError(f"unknown preset '{preset}': choose {' or '.join(SPECS)}")
    if leads < 0:
        raise RuleError("the number of demo leads cannot be negative")
    path = Path(path)
    _check_target(path)
    created_file = not path.exists()
    previous = clock._frozen
    database: Database | None = None
    try:
        database = Database.open(str(path))
        counts = _Builder(database, random.Random(seed), preset, leads).build()
    except BaseException:
        if database is not None:
            database.close()
            database = None
        if created_file:
            for extra in ("", "-wal", "-shm"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
        raise
    finally:
        clock.freeze(previous)
        if database is not None:
            database.close()
    return counts


def welcome(path: Path, login: str) -> bool:
    """Make `login` (whoever built or opens the demo) an admin of the demo desk at `path`, so they can try every
    flow as themselves; the demo's manager does it, with history. Returns True when something changed."""
    database = Database.open(str(path))
    try:
        manager = Desk(database, Settings(), MANAGER[0], origin="demo")
        users = {u["login"]: u for u in manager.users()}
        if login not in users:
            manager.add_user(login, role="admin")
            return True
        if users[login]["role"] != "admin" or not users[login]["active"]:
            manager.set_user_active(login, True)
            manager.set_user_role(login, "admin")
            return True
        return False
    finally:
        database.close()


def is_demo_database(path: Path) -> bool:
    """True for a database `build_demo` made (so it may be replaced with --force)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return conn.execute("SELECT 1 FROM setting WHERE key = 'demo'").fetchone() is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _check_target(path: Path) -> None:
    """Refuse a folder, a file that is not a SQLite database, or a desk that already holds data."""
    if path.is_dir():
        raise RuleError(f"{path} is a folder, not a database file")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise RuleError(f"cannot read {path}: {exc}") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "lead" not in tables:
            raise RuleError(f"{path} is not a leaddesk database; the demo overwrites nothing")
        for table in ("lead", "customer", "deal", "partner"):
            if table in tables and conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                raise RuleError(f"{path} already holds {table}s; a demo is built only in a new or empty desk")
    except sqlite3.DatabaseError as exc:
        raise RuleError(f"{path} is not a leaddesk database ({exc}); the demo overwrites nothing") from None
    finally:
        conn.close()


class _Builder:
    """Plans the demo leads and replays them through one Desk per user."""

    def __init__(self, db: Database, rng: random.Random, preset: str, count: int) -> None:
        self.db = db
        self.rng = rng
        self.preset = preset
        self.spec = SPECS[preset]
        self.count = count
        self.settings = Settings()
        self.anchor = clock.now()
        self.today = clock.today()
        self.desks: dict[str, Desk] = {}
        self.used_phones: set[tuple[str, str]] = set()
        self.used_people: set[tuple[str, str]] = set()
        self.company_customers: dict[str, int] = {}

    # -- setup ---------------------------------------------------------------------------------
    def desk(self, login: str) -> Desk:
        """The desk acting as `login` (all share one Database)."""
        if login not in self.desks:
            self.desks[login] = Desk(self.db, self.settings, login, origin="demo")
        return self.desks[login]

    def build(self) -> dict[str, int]:
        """Set the desk up, plan every lead, replay all steps in time order; return the counts."""
        self.setup()
        plans = [self.plan(i, final, flow) for i, (final, flow) in enumerate(self.outcomes())]
        self.mark_odd_phones(plans)
        self.mark_repeats(plans)
        events = sorted(((when, lead.index, k) for lead in plans for k, when in enumerate(lead.times)))
        for when, index, k in events:
            clock.freeze(when)
            self.run(plans[index], k)
        with self.db.write() as tx:
            tx.execute("INSERT INTO setting (key, value) VALUES ('demo', :seed)", {"seed": str(self.rng.random())})
        tables = (("leads", "lead"), ("customers", "customer"), ("deals", "deal"), ("activities", "activity"),
                  ("partners", "partner"), ("users", "user"))
        with self.db.read() as tx:
            return {name: int(tx.scalar(f"SELECT count(*) FROM \"{table}\"")) for name, table in tables}

    def setup(self) -> None:
        """Init the preset as the manager, add the reps, partners and a type that allows fewer statuses."""
        clock.freeze(self.anchor - timedelta(days=130))
        manager = self.desk(MANAGER[0])
        manager.init(self.preset)
        known = {u["login"] for u in manager.users()}
        for login, name in REPS:
            if login not in known:
                manager.add_user(login, name, role="rep")
        self.statuses = manager.statuses()
        self.status_names = [s["name"] for s in self.statuses]
        self.open_names = [s["name"] for s in self.statuses if s["category"] == "open"]
        self.category = {s["name"]: s["category"] for s in self.statuses}
        self.types = [t["name"] for t in manager.catalog_list("types")]
        self.sources = [s["name"] for s in manager.catalog_list("sources")]
        self.reasons = [r["name"] for r in manager.catalog_list("reasons")]
        self.methods = [m["name"] for m in manager.catalog_list("methods")]
        self.items = [i["name"] for i in manager.catalog_list("items")]
        self.allowed = {t: list(self.status_names) for t in self.types}
        if self.spec.restricted_type in self.types and self.spec.skipped_status in self.status_names:
            subset = [s for s in self.status_names if s != self.spec.skipped_status]
            self.allowed[self.spec.restricted_type] = manager.catalog_change(
                "types", "statuses", self.spec.restricted_type, subset)
        with self.db.read() as tx:  # there is no Desk method listing a pipeline's stages
            self.stages = [r[0] for r in tx.all(
                "SELECT s.name FROM stage s JOIN pipeline p ON p.id = s.pipeline_id WHERE p.is_default"
                " ORDER BY s.position, s.id")]
        with self.db.write() as tx:
            # There is no API for a user's display name: `init` creates the acting user named by login.
            tx.execute("UPDATE \"user\" SET name = :n WHERE login = :l AND name = login",
                       {"n": MANAGER[1], "l": MANAGER[0]})
            # There are no partner methods on Desk yet.
            self.partners = []
            for number, (name, email, spends) in enumerate(PARTNERS):
                partner = tx.insert(
                    "INSERT INTO partner (name, email, created_at) VALUES (:name, :email, :created_at)",
                    {"name": name, "email": email,
                     "created_at": clock.stamp(self.anchor - timedelta(days=130 - number))})
                self.partners.append(name)
                for note, cents in spends:
                    spent_on = self.today - timedelta(days=self.rng.randint(1, 118))
                    tx.execute("INSERT INTO partner_spend (partner_id, spent_on, amount_cents, note)"
                               " VALUES (:partner_id, :spent_on, :amount_cents, :note)",
                               {"partner_id": partner, "spent_on": spent_on.isoformat(),
                                "amount_cents": cents, "note": note})

    # -- planning ------------------------------------------------------------------------------
    def outcomes(self) -> list[tuple[str, str]]:
        """(final status, flow) per lead: every status and flow at least once, the rest drawn by weight."""
        won = next((s for s in self.status_names if self.category[s] == "won"), None)
        lost = next((s for s in self.status_names if self.category[s] == "lost"), None)
        qualified = next((s for s in self.status_names if self.category[s] == "qualified"), None)
        cover = [(s, "walk") for s in self.open_names]
        if qualified:
            cover.append((qualified, "qualify"))
        else:  # a workflow without a qualified status: the deal is opened on an open lead
            cover.append((self.open_names[min(3, len(self.open_names) - 1)], "qualify"))
        if won and lost:
            cover += [(won, "deal_won"), (won, "won"), (lost, "lost"), (lost, "deal_lost")]
        choices: list[tuple[str, str]] = []
        weights: list[float] = []
        for name in self.open_names:
            choices.append((name, "walk"))
            weights.append(10)
            choices.append((name, "lost_reopen"))
            weights.append(0.5)
            if qualified and self.open_names.index(name) >= 2:  # deal fell through: work the lead again
                choices.append((name, "deal_lost_reopen"))
                weights.append(0.6)
            elif not qualified and self.open_names.index(name) >= 2:
                choices.append((name, "qualify"))
                weights.append(5)
        if qualified:
            choices.append((qualified, "qualify"))
            weights.append(15)
        if won:
            choices += [(won, "deal_won"), (won, "won")]
            weights += [13, 9] if qualified else [11, 12]
        if lost:
            choices += [(lost, "lost"), (lost, "deal_lost")]
            weights += [13, 5]
        picked = cover[:self.count] + self.rng.choices(choices, weights, k=max(0, self.count - len(cover)))
        self.rng.shuffle(picked)
        return picked

    def pick_type(self, final: str) -> str:
        """A lead type whose allowed statuses include the final one (the first type is the most common)."""
        fits = [t for t in self.types if final in self.allowed[t]]
        if not fits:
            return self.types[0]
        weights = [65 if t == self.types[0] else 35 for t in fits]
        return self.rng.choices(fits, weights)[0]

    def plan(self, index: int, final: str, flow: str) -> _Lead:
        """Draw a lead's fields and its life for a final status and flow."""
        rng = self.rng
        type_name = self.pick_type(final)
        owner = rng.choices([r[0] for r in REPS], REP_WEIGHTS)[0] if rng.random() > 0.04 else MANAGER[0]
        values, digits = self.lead_values(type_name, owner)
        intake = values.get("source") in self.spec.intake_sources
        creator = MANAGER[0] if intake and rng.random() < 0.7 else owner
        closed = self.category.get(final) in ("won", "lost") or flow.endswith("reopen")
        if self.category.get(final) == "open" and flow == "walk":
            position = self.open_names.index(final)
            age = rng.uniform(0.05 + position, 12 + 22 * position)
        else:
            age = rng.uniform(8 if closed else 5, 120)
        created = self.office_hours(self.anchor - timedelta(days=min(age, 120)),
                                    self.anchor - timedelta(hours=1))
        if rng.random() < 0.4:
            values["expected_close"] = created.date() + timedelta(days=rng.randint(20, 100))
        lead = _Lead(index, owner, creator, type_name, final, flow, values, created, digits=digits)
        self.plan_steps(lead)
        span_end = created + (self.anchor - created) * rng.uniform(0.25, 0.9 if closed else 1.0)
        end = max(min(span_end, self.anchor - timedelta(minutes=1)), created + timedelta(minutes=30))
        lead.times = [created, *self.spread(created, end, len(lead.steps) - 1)]
        self.resolve_followup(lead)
        return lead

    def lead_values(self, type_name: str, owner: str) -> tuple[dict[str, Any], tuple[str, str] | None]:
        """The fields a lead is created with (what `add_lead` accepts)."""
        rng = self.rng
        first, last = self.person()
        city, state, zip_prefix, area, zone = rng.choice(CITIES)
        item = rng.choice(self.items)
        titles, (low, high), _lines = self.spec.items.get(item, NO_ITEM)
        values: dict[str, Any] = {
            "name": f"{first} {last}", "title": rng.choice(titles or (item,)), "item": item,
            "type": type_name,
            "street": f"{rng.randint(10, 9899)} {rng.choice(STREETS)}", "city": city, "state": state,
            "zip": f"{zip_prefix}{rng.randint(1, 45):02d}", "country": "US", "zone": zone, "owner": owner,
            "priority": rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0],
        }
        slug_first, slug_last = _slug(first), _slug(last)
        if rng.random() < self.spec.company_share.get(type_name, 0.8):
            company = rng.choice(COMPANIES)
            domain = f"{_slug(company)}.example.com"
            values.update(company=company, job_title=rng.choice(JOB_TITLES), website=f"https://www.{domain}")
            email = f"{slug_first}.{slug_last}@{domain}"
        else:
            email = rng.choice((f"{slug_first}.{slug_last}@example.org",
                                f"{slug_first[0]}{slug_last}{rng.randint(2, 99)}@example.org"))
        digits = self.phone_digits(area)
        roll = rng.random()
        if digits and roll > 0.08:
            values["phone"] = self.format_phone(digits)
        else:
            digits = None
        if roll < 0.08 or rng.random() > 0.12:
            values["email"] = email
        source = self.pick_source(type_name)
        values["source"] = source
        if source == "Partner" and self.partners:
            values["partner"] = rng.choice(self.partners)
        elif source == "Referral":
            values["source_detail"] = f"Referred by {' '.join(self.person(reserve=False))}"
        elif source in SOURCE_DETAILS:
            values["source_detail"] = rng.choice(SOURCE_DETAILS[source])
        if source in CAMPAIGNS and rng.random() < 0.7:
            campaign, medium = rng.choice(CAMPAIGNS[source])
            values.update({"campaign": campaign, "medium": medium} if campaign else {"medium": medium})
        if self.methods:
            values["contact_method"] = rng.choice(self.methods)
        if rng.random() < 0.55:
            values["tags"] = ", ".join(rng.sample(TAGS, rng.randint(1, 3)))
        if rng.random() < 0.75:
            values["expected_revenue"] = f"{_round_money(rng.uniform(low, high)):,}"
            values["probability"] = rng.choice((10, 15, 20, 25, 30, 40))
        if rng.random() < 0.35:
            values["description"] = rng.choice((
                "Wants a quote before the end of the month.", "Comparing three vendors.",
                "Current provider is not responsive.", "Expanding to a second location.",
                "Needs it done before the busy season.", "Asked for financing options."))
        if rng.random() < 0.3:
            values["score"] = rng.randint(10, 95)
        return values, digits

    def person(self, *, reserve: bool = True) -> tuple[str, str]:
        """A first and last name (distinct across leads while reserving)."""
        for _ in range(50):
            pair = (self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES))
            if not reserve or pair not in self.used_people:
                break
        if reserve:
            self.used_people.add(pair)
        return pair

    def phone_digits(self, area: str) -> tuple[str, str] | None:
        """An unused fictional number 555-01xx, in another area code if this one is full (None: none left)."""
        areas = [area] + [c[3] for c in CITIES if c[3] != area]
        for code in areas:
            free = [f"01{n:02d}" for n in range(100) if (code, f"01{n:02d}") not in self.used_phones]
            if free:
                line = self.rng.choice(free)
                self.used_phones.add((code, line))
                return code, line
        return None

    def format_phone(self, digits: tuple[str, str]) -> str:
        """A number in one of the formats people type."""
        return self.rng.choice(PHONE_STYLES).format(a=digits[0], n=digits[1])

    def pick_source(self, type_name: str) -> str:
        """A source that fits the lead type (cold sources for outbound leads)."""
        outbound = [s for s in self.spec.outbound_sources if s in self.sources]
        if outbound and type_name == "Outbound":
            pool = outbound
        else:
            pool = [s for s in self.sources if s not in ("Cold Outreach", "Cold Call")] or self.sources
        weights = [3 if s in ("Website Form", "Referral") else 2 if s in ("Partner", "Phone Call") else 1
                   for s in pool]
        return self.rng.choices(pool, weights)[0]

    def plan_steps(self, lead: _Lead) -> None:
        """The steps of a lead's life, from its creation to its final status (and follow-up)."""
        rng = self.rng
        steps = lead.steps
        steps.append(("add", lead.creator, {}))
        opens = [s for s in self.open_names if s in self.allowed[lead.type_name]]
        flow = lead.flow
        if flow == "walk":
            stop = lead.final
        elif flow in ("lost", "won"):
            stop = rng.choice(opens[:3] if flow == "lost" else opens[2:] or opens)
        elif flow == "lost_reopen":
            stop = rng.choice(opens[:3])
        elif self.category[lead.final] == "open" and flow == "qualify":
            stop = lead.final
        else:
            stop = rng.choice(opens[2:4] or opens)
        if "partner" in lead.values or rng.random() < 0.3:
            cold = lead.type_name == "Outbound" and lead.values.get("source") in self.spec.outbound_sources
            self.moment(lead, "prospect" if cold else "intro")
        self.walk(lead, opens, stop)
        if rng.random() < 0.25:
            self.moment(lead, "extra")
        if rng.random() < 0.08 and lead.owner != MANAGER[0]:
            other = rng.choice([r[0] for r in REPS if r[0] != lead.owner])
            steps.append(("edit", MANAGER[0], {"owner": other}))
        if rng.random() < 0.12:
            steps.append(("edit", "@owner", {"priority": 3, "+tag": "hot"}))
        if flow in ("qualify", "deal_won", "deal_lost", "deal_lost_reopen"):
            self.plan_deal(lead, opens, stop)
        elif flow == "won":
            value = self.job_value(lead)
            steps.append(("won", "@owner", {"value": f"{value:,}"}))
            self.moment(lead, "won")
            if rng.random() < 0.5:
                steps.append(("customer", "@owner", {}))
        elif flow in ("lost", "lost_reopen"):
            if rng.random() < 0.5:
                self.moment(lead, "lost")
            self.lose(lead, EARLY_REASONS)
        if flow.endswith("reopen"):
            steps.append(("reopen", "@owner", {"status": lead.final}))
            self.moment(lead, "nurture")
        if self.category[lead.final] in ("open", "qualified") and rng.random() < 0.92:
            steps.append(("followup", "@owner", {"kind": rng.choices(
                ("overdue", "today", "week", "later"), (30, 14, 26, 30))[0]}))

    def walk(self, lead: _Lead, opens: Sequence[str], stop: str) -> None:
        """Status changes by hand from the first open status to `stop`, with the calls that go with them."""
        for position, name in enumerate(opens[: opens.index(stop) + 1]):
            if position == 0:
                continue
            if name != stop and self.rng.random() < 0.3:
                continue
            moments = self.spec.open_moments
            moment = moments[min(self.open_names.index(name), len(moments) - 1)]
            for _ in range(self.rng.choice((1, 1, 1, 2))):
                self.moment(lead, moment)
            if self.preset == "sales" and moment == "engage" and self.rng.random() < 0.6:
                lead.steps.append(("edit", "@owner", {
                    "bant_budget": self.rng.choice(("yes", "yes", "unknown")),
                    "bant_budget_note": f"About ${_round_money(self.rng.uniform(5_000, 50_000)):,} set aside",
                    "bant_authority": self.rng.choice(("yes", "no", "unknown")),
                    "bant_need": "yes", "bant_timeline": self.rng.choice(("yes", "unknown")),
                    "bant_timeline_note": self.rng.choice(("This quarter", "Before year end", "Next spring")),
                }))
            lead.steps.append(("status", "@owner", {"status": name}))

    def plan_deal(self, lead: _Lead, opens: Sequence[str], stop: str) -> None:
        """Qualify (customer + deal), quote, move the deal through stages, then win or lose it."""
        rng = self.rng
        item = lead.values.get("item", "")
        _titles, (low, high), line_specs = self.spec.items.get(item, NO_ITEM)
        lines = [(desc, rng.randint(*qty), _round_money(rng.uniform(*price), 10))
                 for desc, qty, price in line_specs]
        total = sum(q * p for _d, q, p in lines) if lines else _round_money(rng.uniform(low, high))
        self.moment(lead, "qualify", amount=f"{total:,}")
        if rng.random() < 0.5:
            lead.steps.append(("edit", "@owner", {"probability": rng.choice((60, 70, 75, 80))}))
        close = rng.randint(14, 60)
        lead.steps.append(("qualify", "@owner", {"value": f"{total:,}", "close_in": close,
                                                 "title": lead.values.get("title")}))
        if lines and rng.random() < 0.7:
            for desc, qty, price in lines:
                lead.steps.append(("quote", "@owner", {"description": desc, "quantity": qty, "price": price}))
        stages = self.stages
        low_reach = max(1, len(stages) - 2) if lead.flow == "deal_won" else 0
        for stage in stages[1: rng.randint(low_reach, len(stages) - 1) + 1]:
            if rng.random() < 0.4:
                self.moment(lead, rng.choice(("contact", "extra")))
            lead.steps.append(("stage", "@owner", {"stage": stage}))
        # Without a qualified status (services) the lead stays open while its job is scheduled.
        if (lead.flow == "deal_won" and "qualified" not in self.category.values() and opens[-1] != stop
                and rng.random() < 0.6):
            self.moment(lead, "schedule")
            lead.steps.append(("status", "@owner", {"status": opens[-1]}))
        if lead.flow == "deal_won":
            value = None if rng.random() < 0.6 else f"{_round_money(total * rng.uniform(0.85, 1.05)):,}"
            lead.steps.append(("deal_won", "@owner", {"value": value}))
            self.moment(lead, "won")
            if rng.random() < 0.1:
                lead.steps.append(("edit", "@owner", {"job_value": f"{_round_money(total * 1.08):,}"}))
        elif lead.flow in ("deal_lost", "deal_lost_reopen"):
            reason = self.reason(LATE_REASONS)
            lead.steps.append(("deal_lost", "@owner", {"reason": reason, "note": self.lost_note(reason)}))
            if lead.flow == "deal_lost":
                self.lose(lead, (reason,))

    def job_value(self, lead: _Lead) -> int:
        """A job value in dollars fitting the lead's item."""
        _titles, (low, high), _lines = self.spec.items.get(lead.values.get("item", ""), NO_ITEM)
        return _round_money(self.rng.uniform(low, high))

    def reason(self, preferred: Sequence[str]) -> str:
        """A lost reason from the desk's list, preferring the given ones."""
        fits = [r for r in preferred if r in self.reasons]
        return self.rng.choice(fits or self.reasons)

    def lost_note(self, reason: str) -> str:
        """A short note that goes with a lost reason."""
        return self.rng.choice(LOST_NOTES.get(reason, ("",)))

    def lose(self, lead: _Lead, preferred: Sequence[str]) -> None:
        """Mark the lead lost with a reason and (mostly) a note."""
        reason = self.reason(preferred)
        note = self.lost_note(reason) if self.rng.random() < 0.8 else None
        lead.steps.append(("lost", "@owner", {"reason": reason, "note": note}))

    def moment(self, lead: _Lead, moment: str, **extra: str) -> None:
        """An activity (call, email, meeting, note) for a moment of the lead's life.

        The text is filled in when the step is replayed, from the lead's values then.
        """
        options = [o for o in MOMENTS[moment] if "{partner}" not in o[1] or "partner" in lead.values]
        if "partner" in lead.values and moment == "intro":
            options = [o for o in options if "{partner}" in o[1]]
        kind, template = self.rng.choice(options)
        fill = {"day": self.rng.choice(WEEKDAYS), "weeks": self.rng.choice(("two", "three", "six")),
                "city": self.rng.choice(CITIES)[0],
                "amount": f"{_round_money(self.rng.uniform(2_000, 40_000)):,}",
                **extra}
        lead.steps.append(("activity", "@owner", {"kind": kind, "template": template, "fill": fill}))

    @staticmethod
    def body(lead: _Lead, template: str, fill: dict[str, str]) -> str:
        """An activity text about this lead."""
        v = lead.values
        first = v["name"].split()[0]
        title = v["title"]
        what = title if title[1:2].isupper() else title[:1].lower() + title[1:]
        return template.format(first=first, org=v.get("company") or first, what=what,
                               source=v.get("source", "the website").lower(), partner=v.get("partner", ""),
                               street=v["street"], **fill)

    def office_hours(self, moment: datetime, latest: datetime) -> datetime:
        """Move a moment into US office hours (14:00-23:59 UTC) unless that puts it after `latest`."""
        if moment.hour >= 14:
            return moment
        shifted = moment.replace(hour=14 + moment.hour % 10)
        return shifted if shifted <= latest else moment

    def spread(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """`count` increasing moments after `start`, none after `end`, mostly in office hours."""
        if count <= 0:
            return []
        span = (end - start).total_seconds()
        raw = sorted(start + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(count))
        moments: list[datetime] = []
        previous = start
        for moment in sorted(self.office_hours(m, end) for m in raw):
            previous = max(moment, previous + timedelta(minutes=self.rng.randint(2, 20)))
            moments.append(previous)
        if moments[-1] > end:  # too many steps for the span: space them evenly
            step = span / (count + 1)
            moments = [start + timedelta(seconds=step * (k + 1)) for k in range(count)]
        return [m.replace(microsecond=0) for m in moments]

    def resolve_followup(self, lead: _Lead) -> None:
        """Turn the follow-up kind into a date, now that the step's moment is known."""
        for k, (action, _actor, args) in enumerate(lead.steps):
            if action != "followup":
                continue
            set_on = lead.times[k].date()
            kind = args["kind"]
            week_end = self.today + timedelta(days=6 - self.today.weekday())
            if kind == "overdue" and (self.today - set_on).days >= 2:
                when = set_on + timedelta(days=self.rng.randint(1, (self.today - set_on).days - 1))
            elif kind == "today":
                when = self.today
            elif kind in ("week", "overdue") and week_end > self.today:
                when = self.today + timedelta(days=self.rng.randint(1, (week_end - self.today).days))
            else:
                when = self.today + timedelta(days=self.rng.randint(3, 40))
            args["date"] = max(when, set_on)

    def mark_odd_phones(self, plans: list[_Lead]) -> None:
        """A few leads keep phones that cannot be normalised ("n/a", "ext. 12")."""
        walkers = [p for p in plans if p.flow == "walk" and "phone" in p.values]
        for lead, phone in zip(self.rng.sample(walkers, min(len(ODD_PHONES), len(walkers))), ODD_PHONES,
                               strict=False):
            lead.values["phone"] = phone
            lead.digits = None

    def mark_repeats(self, plans: list[_Lead]) -> None:
        """Some later leads come from existing customers: same phone or email, typed another way.

        A few are someone else in the same household (same phone, another first name): those get a new
        customer when qualified, the others are linked to the matching one.
        """
        def qualify_time(lead: _Lead) -> datetime:
            return next(t for t, s in zip(lead.times, lead.steps, strict=True) if s[0] == "qualify")

        qualifying = [p for p in plans if any(s[0] == "qualify" for s in p.steps)]
        candidates = sorted(qualifying, key=lambda p: p.created, reverse=True)[: max(1, len(plans) // 15)]
        chosen = {p.index for p in candidates}
        taken: set[int] = set()
        for lead in candidates:
            fits = [s for s in qualifying if s.index not in chosen and s.index not in taken
                    and s.type_name == lead.type_name and s.digits is not None
                    and qualify_time(s) < lead.created - timedelta(days=1)]
            if not fits:
                continue
            source = self.rng.choice(fits)
            taken.add(source.index)
            lead.repeat = True
            for key in ("company", "job_title", "website", "email", "phone"):
                lead.values.pop(key, None)
            keep = ("name", "company", "job_title", "website", "street", "city", "state", "zip", "zone")
            lead.values.update({k: source.values[k] for k in keep if k in source.values})
            household = "company" not in source.values and self.rng.random() < 0.35
            if household:
                last = source.values["name"].split()[-1]
                first = self.rng.choice([f for f in FIRST_NAMES if not source.values["name"].startswith(f)])
                lead.values["name"] = f"{first} {last}"
                lead.household = True
            elif "email" in source.values and self.rng.random() < 0.6:
                email = source.values["email"]
                lead.values["email"] = email[0].upper() + email[1:]
            assert source.digits is not None
            if household or "email" not in lead.values or self.rng.random() < 0.6:
                lead.values["phone"] = self.format_phone(source.digits)
            lead.values["tags"] = f"{lead.values.get('tags', '')}, repeat".lstrip(", ")
            lead.digits = None

    # -- replay --------------------------------------------------------------------------------
    def run(self, lead: _Lead, k: int) -> None:
        """Replay one step of a lead through the Desk API, as whoever does it."""
        action, actor, args = lead.steps[k]
        if actor == "@owner":
            actor = lead.owner
        desk = self.desk(actor)
        ref = str(lead.number)
        if action == "add":
            lead.number = int(desk.add_lead(lead.values, force=True)["number"])  # repeat customers on purpose
        elif action == "activity":
            desk.add_activity(ref, args["kind"], self.body(lead, args["template"], args["fill"]))
        elif action == "status":
            desk.set_status(ref, args["status"])
        elif action == "edit":
            values = dict(args)
            if "+tag" in values:
                values["tags"] = f"{lead.values.get('tags', '')}, {values.pop('+tag')}"
            desk.edit_lead(ref, values)
            lead.owner = values.get("owner", lead.owner)
        elif action == "followup":
            desk.set_followup(ref, args["date"])
        elif action == "qualify":
            self.qualify(lead, desk, args)
        elif action == "quote":
            assert lead.deal_id is not None
            desk.deal_action(lead.deal_id, "quote", description=args["description"],
                             quantity=args["quantity"], price=args["price"])
        elif action == "stage":
            assert lead.deal_id is not None
            desk.deal_action(lead.deal_id, "stage", stage=args["stage"])
        elif action == "deal_won":
            assert lead.deal_id is not None
            desk.deal_action(lead.deal_id, "won", value=args["value"])
        elif action == "deal_lost":
            assert lead.deal_id is not None
            desk.deal_action(lead.deal_id, "lost", reason=args["reason"], note=args["note"])
        elif action == "won":
            desk.mark_won(ref, args["value"])
        elif action == "lost":
            desk.mark_lost(ref, args["reason"], args["note"])
        elif action == "reopen":
            desk.reopen(ref, args["status"])
        elif action == "customer":
            self.link_customer(lead, desk)
        else:  # pragma: no cover
            raise AssertionError(action)

    def qualify(self, lead: _Lead, desk: Desk, args: dict[str, Any]) -> None:
        """Qualify, linking the customer that matches by phone/email or the company's, else a new one."""
        options: dict[str, Any] = {"title": args["title"], "value": args["value"],
                                   "close": clock.today() + timedelta(days=args["close_in"])}
        ref = str(lead.number)
        company = lead.values.get("company")
        if lead.repeat:
            matches = desk.matching_customers(ref)
            if matches and lead.household:
                options["new_customer"] = True
            elif matches:
                options["customer_id"] = matches[0]["id"]
        if not options.keys() & {"customer_id", "new_customer"} and company in self.company_customers:
            options["customer_id"] = self.company_customers[company]
        try:
            outcome = desk.qualify(ref, **options)
        except NeedsChoice as exc:  # a match the plan did not foresee: link the first one
            outcome = desk.qualify(ref, customer_id=exc.choices[0]["id"], **options)
        lead.deal_id = outcome["deal_id"]
        if company:
            self.company_customers.setdefault(company, outcome["customer_id"])

    def link_customer(self, lead: _Lead, desk: Desk) -> None:
        """Give a lead won without a deal its customer: an existing one when it matches, else a new one."""
        ref = str(lead.number)
        company = lead.values.get("company")
        existing = self.company_customers.get(company or "")
        if existing is None:
            matches = desk.matching_customers(ref)
            existing = matches[0]["id"] if matches else None
        if existing is not None:
            desk.edit_lead(ref, {"customer": str(existing)})
            return
        detail = desk.customer_from_lead(ref)
        if company:
            self.company_customers.setdefault(company, int(detail["customer_id"]))


def _slug(text: str) -> str:
    """Lower-case letters and digits only (for emails and domains)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _round_money(amount: float, step: int = 50) -> int:
    """A whole-dollar amount rounded to a plausible step."""
    return max(step, round(amount / step) * step)


"""`leaddesk add --force`, `leaddesk dupes` and `leaddesk merge` through the real entry point."""

from __future__ import annotations

from clisupport import BOB, NOW, Cli, assert_one_line_refusal, flags, header


def dup(cli: Cli, *extra: str, **fields: str) -> int:
    """Add a lead that duplicates another on purpose; its number."""
    out = cli.ok("add", *flags(**fields), "--force", *extra).out
    return int(out.split("#")[1].split()[0])


# -- the warning on create -----------------------------------------------------------------------
def test_add_warns_about_a_known_phone_and_force_creates_it(cli: Cli, ann: int) -> None:
    result = cli.refused("add", "--name", "Ann L", "--phone", "(212) 555-0100")
    assert result.err == "leaddesk: lead #1 Ann Lee (Acme) has this phone; add --force to create it anyway\n"
    assert result.out == ""
    assert cli.ok("list", "--json").json()[0]["number"] == ann and len(cli.ok("list", "--json").json()) == 1
    out = cli.ok("add", "--name", "Ann L", "--phone", "(212) 555-0100", "--force").out
    assert out == "added #2 Ann L · New\n"


def test_add_json_lists_the_matches(cli: Cli, ann: int) -> None:
    cli.ok("qualify", str(ann))
    result = cli("add", "--name", "X", "--email", "ANN@acme.example.com", "--json")
    line = assert_one_line_refusal(result)
    body = result.json()
    assert body["error"] == line.removeprefix("leaddesk: ")
    assert [(m["kind"], m["id"], m["number"], m["matched"]) for m in body["matches"]] == [
        ("lead", 1, 1, ["email"]), ("customer", 1, None, ["email"])]


# -- dupes ---------------------------------------------------------------------------------------
def test_dupes_lists_groups_with_the_reasons(cli: Cli, ann: int) -> None:
    cli.add(**BOB)
    dup(cli, name="Ann Lee", company="ACME Inc.", phone="212.555.0100")
    cli.add(name="Carla Rossi", company="Globex")
    cli.add(name="Carla Rosi", company="Globex GmbH")
    out = cli.ok("dupes").out
    lines = out.splitlines()
    assert lines[0].rstrip() == "Group 1: same phone +12125550100 (#1, #3)"
    assert header(lines[1]) == ["number", "name", "company", "phone", "email", "status", "owner", "updated"]
    assert "  leaddesk merge 1 3" in lines
    assert any(line.startswith("Group 2: similar name and company #4, #5 (9") for line in lines)
    assert lines[-1] == "2 groups of likely duplicates, 4 leads"
    assert "Bob" not in out
    groups = cli.ok("dupes", "--json").json()
    assert [g["numbers"] for g in groups] == [[1, 3], [4, 5]]
    assert groups[0]["leads"][0] == {"number": 1, "name": "Ann Lee", "company": "Acme", "phone": "+1 212 555 0100",
                                     "email": "ann@acme.example.com", "status": "New", "status_category": "open",
                                     "owner": "ann", "updated": NOW}
    assert [g["numbers"] for g in cli.ok("dupes", "--exact", "--json").json()] == [[1, 3]]
    assert [g["numbers"] for g in cli.ok("dupes", "--limit", "1", "--json").json()] == [[1, 3]]
    assert cli.ok("dupes", "--limit", "1").out.splitlines()[-1] == (
        "2 groups of likely duplicates, 4 leads (showing 1; use --limit 0 for all)")


def test_dupes_on_a_clean_desk_and_a_bad_threshold(cli: Cli, ann: int) -> None:
    assert cli.ok("dupes").out == "no likely duplicates\n"
    assert cli.ok("dupes", "--json").json() == []
    result = cli.refused("dupes", "--threshold", "101")
    assert result.err == "leaddesk: the threshold 101 must be between 50 and 100\n"


# -- merge ---------------------------------------------------------------------------------------
def test_merge_then_show_the_merged_number(cli: Cli, ann: int) -> None:
    other = dup(cli, name="Anne Lee", phone="212 555 0100", city="Boston", tags="hot")
    cli.ok("note", str(other), "called back")
    out = cli.ok("merge", str(ann), str(other)).out
    assert out == ("merged #2 into #1 Ann Lee (Acme) · New — moved 1 activity, 12 history rows;"
                   " changed city, tags (merge 1; undo with: leaddesk merge --undo 1)\n")
    result = cli.refused("show", str(other), code=3)
    assert result.err == "leaddesk: lead #2 was merged into #1 (merge 1)\n"
    cli.refused("status", str(other), "contacted", code=3)
    lead = cli.show(ann)
    assert (lead["city"], lead["tags"]) == ("Boston", ["hot"])
    assert [a["body"] for a in lead["activities"]] == [
        "merged lead #2 Anne Lee into this lead; its values not kept: contact name Anne Lee", "called back"]
    listed = cli.ok("merge", "--list", "--json").json()
    assert listed == [{"id": 1, "at": NOW, "user": "ann", "keep": 1, "merged": [2], "undone": False,
                       "moved": {"activities": 1, "deals": 0, "history": 12}}]
    assert header(cli.ok("merge", "--list").out) == ["id", "at", "user", "kept", "merged", "moved", "undone"]


def test_merge_take_dry_run_and_json(cli: Cli, ann: int) -> None:
    other = dup(cli, name="Ann Lee", company="Acme Two", email="ANN@acme.example.com", zone="South")
    before = cli.show(ann)
    out = cli.ok("merge", str(ann), str(other), "--take", "company=2", "--dry-run").out
    assert out.splitlines()[0].rstrip() == "Merge into #1 (dry run: nothing changed)"
    assert header(out.splitlines()[1]) == ["field", "#1 (keep)", "#2", "result"]
    assert any(line.startswith("Company") and "Acme Two  ← #2" in line for line in out.splitlines())
    assert cli.show(ann) == before and cli.show(other)["company"] == "Acme Two"
    plan = cli.ok("merge", str(ann), str(other), "--take", "company=2", "--dry-run", "--json").json()
    assert {f["field"]: f["how"] for f in plan["fields"]}["zone"] == "filled"
    done = cli.ok("merge", str(ann), str(other), "--take", "company=#2", "--json").json()
    assert (done["merge_id"], done["keep"], done["merged"]) == (1, 1, [2])
    assert (done["lead"]["company"], done["lead"]["zone"]) == ("Acme Two", "South")


def test_merge_undo_restores_show_json_exactly(cli: Cli, ann: int) -> None:
    other = dup(cli, name="Anne Lee", phone="212 555 0100", city="Boston", followup="tomorrow")
    cli.ok("log", str(other), "call", "left a message")
    cli.ok("qualify", str(other))
    before = {n: cli.show(n) for n in (ann, other)}
    cli.ok("merge", str(ann), str(other))
    assert cli.show(ann)["deals"] == before[other]["deals"]
    out = cli.ok("merge", "--undo").out
    assert out == "undid merge 1: #2 restored from #1 — moved back 1 activity, 1 deal, 14 history rows\n"
    assert cli.show(other) == before[other]
    kept = cli.show(ann)
    assert kept["version"] == before[ann]["version"] + 2  # the merge and its undo are changes too
    assert {**kept, "version": 0} == {**before[ann], "version": 0}
    result = cli.refused("merge", "--undo")
    assert result.err == "leaddesk: you have no merge to undo (leaddesk merge --list shows every merge)\n"
    assert cli.ok("merge", "--list", "--json").json()[0]["undone"] is True


def test_merge_undo_after_a_later_edit_is_refused(cli: Cli, ann: int) -> None:
    other = dup(cli, name="Anne Lee", phone="212 555 0100", city="Boston")
    cli.ok("merge", str(ann), str(other))
    cli.ok("user", "add", "bob")
    cli.ok("--user", "bob", "edit", str(ann), "--city", "Denver")
    result = cli.refused("merge", "--undo", "1", code=4)
    assert result.err == ("leaddesk: cannot undo merge 1: the city of lead #1 was changed since by bob at"
                          " 2026-03-04 10:00:00; change it back first, or fix the leads by hand\n")
    cli.refused("show", str(other), code=3)


def test_merge_refusals(cli: Cli, ann: int) -> None:
    cli.add(**BOB)
    cases = [
        (["merge", "1", "1"], 1, "cannot merge lead #1 into itself"),
        (["merge", "1"], 1, "name the lead to keep and the leads to merge into it: leaddesk merge KEEP OTHER..."),
        (["merge", "1", "7"], 3, "no lead matches '7'"),
        (["merge", "1", "2", "--take", "phone"], 1, "--take takes FIELD=REF (e.g. phone=12), not 'phone'"),
        (["merge", "1", "2", "--take", "phone=5"], 1,
         "--take phone=5: name one of the leads being merged by number (#1, #2)"),
        (["merge", "--undo", "x"], 1, "--undo takes a merge id (see leaddesk merge --list), not 'x'"),
        (["merge", "--undo", "4"], 3, "there is no merge 4"),
        (["merge", "--undo", "1", "2"], 1, "--undo takes at most a merge id (see leaddesk merge --list)"),
        (["merge", "--list", "1"], 1, "--list takes no leads and no other option"),
    ]
    before = [cli.show(n) for n in (1, 2)]
    for argv, code, message in cases:
        assert cli.refused(*argv, code=code).err == f"leaddesk: {message}\n"
    assert [cli.show(n) for n in (1, 2)] == before
    assert cli.ok("merge", "--list").out == "(nothing)\n"

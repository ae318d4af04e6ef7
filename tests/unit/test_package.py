"""Packages carry what they should and nothing more: no solution, hidden check or corpus in a kit;
hidden declarations left out by rule; bad input refused with a clear message."""
from __future__ import annotations

import ast
import json
import re
import shutil
import zipfile
from dataclasses import replace

import pytest
from click.testing import CliRunner

import course
from grader import assignments
from grader.cli import main
from grader.facets import facets
from grader.layout import LAYOUT, Layout
from grader.package import PackageError, content
from grader.package.handout import handout_files
from grader.package.hidden import HiddenDeclarationError, strip_hidden
from grader.package.student import WORKFLOW, student_kit
from grader.signatures import public_api
from grader.target import NAMED
from tests.unit.kit_leaks import Secret, corpus_bodies, leaks, paths, solution_regions

ASSIGNMENTS = assignments.names()
# A region whose whole body is the formula its stub's docstring states, computed again by grader
# code that runs on the student's machine (a scenario, an oracle's replay): carrying it tells
# nothing the stub does not say. Each entry names where the same code is and the stub's line.
STATED = {
    "gan.py:w1": ("src/course/gan/game.py", "W1 ~ mean_i cp_i - mean_j cq_j"),
    "flows.py:planar_transformation": ("src/course/flows/scenarios.py", "f(z) = z + u tanh(z w^T + b)"),
}
# A region this short is one `return` of calls its docstring names (`return self.decoder(z)`,
# `return self.decode(self.encode(x))`): provided code holds the same text (the VAE's
# `return self.decoder(z) - 5.0`), so finding it tells nothing. Characters, whitespace removed.
TRIVIAL = 36


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    """Every assignment's student kit, as a folder or (every other one) a zip."""
    out = tmp_path_factory.mktemp("kits")
    return {name: student_kit(name, out / (f"{name}.zip" if i % 2 else name)).path
            for i, name in enumerate(ASSIGNMENTS)}


def _hidden_secrets(name: str) -> list[Secret]:
    """The ids of the assignment's hidden facets, and the names of its hidden checks' claims."""
    found = []
    for unit in assignments.load(name).units:
        check = course.by_target(unit)
        found += [Secret(f.id, f.id) for f in facets(check) if not (f.public and check.public)]
        if not check.public:
            found += [Secret(f"{unit} claim", repr(c.name)) for c in check.claims]
    return found


def _stated(hit: str) -> bool:
    region, _, where = hit.partition(" -> ")
    if region not in STATED or STATED[region][0] != where:
        return False
    stub, function = region.split(":")
    return STATED[region][1] in ast.get_docstring(
        next(n for n in ast.parse((LAYOUT.stubs / stub).read_text()).body if getattr(n, "name", "") == function))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_kit_holds_no_solution_no_hidden_facet_and_no_corpus(name, kits) -> None:
    kit = kits[name]
    regions = [s for s in solution_regions() if len(s.text) > TRIVIAL or s.origin in STATED]
    assert not [h for h in leaks(kit, regions) if not _stated(h)]
    assert not leaks(kit, corpus_bodies())
    assert not leaks(kit, _hidden_secrets(name))
    assert not [p for p in paths(kit) if "solutions" in p.split("/") or p.split("/")[0] == "tests"]
    held = {p.split("/")[2] for p in paths(kit) if re.fullmatch(r"src/course/\w+/checks\.py", p)}
    assert held == set(assignments.load(name).topics())  # its own topics' folders, no other


def test_the_leak_search_finds_what_is_planted(kits, tmp_path) -> None:
    kit = shutil.copytree(kits["ift6135-a3"], tmp_path / "kit")
    (kit / "src" / "course" / "vae" / "extra.py").write_text((LAYOUT.solutions / "vae.py").read_text())
    mutant = next(s for s in corpus_bodies() if s.origin.startswith("tests/mutants/gan.py"))
    (kit / "notes.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": [mutant.text]}]}))
    with (kit / "README.md").open("a") as readme:
        readme.write("\nvae.log_mean_exp::reference\n")
    vae_regions = [s for s in solution_regions() if s.origin.startswith("vae.py:")]
    assert {h.partition(" -> ")[0] for h in leaks(kit, vae_regions)} == {s.origin for s in vae_regions}
    assert leaks(kit, [mutant]) == [f"{mutant.origin} -> notes.ipynb#cell0"]
    assert leaks(kit, _hidden_secrets("ift6135-a3")) == ["vae.log_mean_exp::reference -> README.md"]


def test_every_stated_exception_is_still_a_hit_and_still_stated(kits) -> None:
    hits = leaks(kits["ift6135-a3"], [s for s in solution_regions() if s.origin in STATED])
    assert sorted(hits) == sorted(f"{region} -> {where}" for region, (where, _) in STATED.items())
    assert all(_stated(h) for h in hits)


HIDDEN = '''"""A topic's checks."""
from grader.check import Check


def _shared(x):
    return x


def _secret_oracle(x):  # only the hidden check uses it
    return _deeper(x) + 1


def _deeper(x):
    return 2 * x


visible = Check("t.f", points=1, oracle=_shared)
hidden = Check(
    "t.g", points=1, public=False,
    oracle=_secret_oracle,
)
also = Check("t.h", points=2, public=True, oracle=lambda x: _shared(x))
'''


def test_hidden_declarations_and_the_helpers_only_they_use_are_left_out() -> None:
    stripped = strip_hidden(HIDDEN, "course/t/checks.py")
    assert stripped.removed == ("_secret_oracle", "_deeper", "hidden")
    tree = ast.parse(stripped.text)
    assert {getattr(n, "name", None) or n.targets[0].id for n in tree.body[2:]} == {"_shared", "visible", "also"}
    assert "secret" not in stripped.text and "2 * x" not in stripped.text
    assert stripped.text.startswith('"""A topic\'s checks."""')
    assert strip_hidden(stripped.text, "x.py").removed == ()


@pytest.mark.parametrize("source, message", [
    ("FLAG = False\nc = Check('t.f', public=FLAG)\n", r"course/t/checks\.py:2: public= must be written True or False"),
    ("checks = (Check('t.f'), Check('t.g', public=False))\n", r"course/t/checks\.py:1: a hidden declaration inside"),
], ids=["computed", "nested"])
def test_a_visibility_packaging_cannot_tell_is_refused(source, message) -> None:
    with pytest.raises(HiddenDeclarationError, match=message):
        strip_hidden(source, "course/t/checks.py")


def test_a_kit_manifest_keeps_hidden_units_apart_and_loads(tmp_path, monkeypatch) -> None:
    found = assignments.load("ift6135-a3")
    (tmp_path / "kit.toml").write_text(content.manifest_text(found, {"vae.log_mean_exp": 2.0}))
    monkeypatch.setattr(assignments, "FOLDER", tmp_path)
    declared = {c.target: c for c in course.checks() if c.target != "vae.log_mean_exp"}
    kit = assignments.load("kit", declared)
    assert "vae.log_mean_exp" not in kit.units and kit.hidden == {"vae.log_mean_exp": 2.0, **found.heavy}
    assert kit.total == found.total and kit.files == found.files
    assert "vae.log_mean_exp" in kit.hidden_note()
    with pytest.raises(assignments.AssignmentError, match=r"kit\.toml:\d+: vae\.log_mean_exp is declared here"):
        assignments.load("kit")


def test_a_handout_file_of_two_topics_joins_them_into_one_module(tmp_path) -> None:
    both = replace(assignments.load("ift6135-a3"), files={"both.py": ("vae", "gan")})
    text = handout_files(both, LAYOUT.stubs, "{file}: {title}")["both.py"]
    tree = ast.parse(text)
    assert text.startswith("# both.py: IFT6135") and text.count("from __future__ import annotations") == 1
    assert isinstance(tree.body[0], ast.ImportFrom) and tree.body[0].module == "__future__"
    (tmp_path / "both.py").write_text(text)
    assert public_api(tmp_path / "both.py") == {**public_api(LAYOUT.stubs / "vae.py"), **public_api(LAYOUT.stubs / "gan.py")}


def test_a_notebook_handout_holds_the_stubs_and_names_the_file(kits) -> None:
    with zipfile.ZipFile(kits["e533-hw5"]) as kit:
        notebook = json.loads(kit.read("e533-hw5.ipynb"))
        workflow = kit.read(WORKFLOW).decode()
    code = "".join("".join(cell["source"]) for cell in notebook["cells"][1:])
    assert "e533-hw5.ipynb" in "".join(notebook["cells"][0]["source"])
    assert 'raise NotImplementedError("one_hot: replace this line' in code and "Generated from" not in code
    assert re.search(r"run: grader check --format junit --output \S+\.xml", workflow)


def test_an_existing_output_is_refused_unless_forced(tmp_path, monkeypatch) -> None:
    out = tmp_path / "kit"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    refused = CliRunner().invoke(main, ["package", "student", "cpsc663-2021", "--output", str(out)])
    assert refused.exit_code == 1 and f"{out} exists; choose another --output, or pass --force" in refused.output
    assert (out / "mine.txt").exists()
    forced = CliRunner().invoke(main, ["package", "student", "cpsc663-2021", "--output", str(out), "--force"])
    assert forced.exit_code == 0 and not (out / "mine.txt").exists() and (out / "solution.py").exists()
    monkeypatch.chdir(out)
    with pytest.raises(PackageError, match="it holds gradekit itself or the current folder"):
        student_kit("cpsc663-2021", out, force=True)


def test_pending_units_are_named_in_a_warning_and_the_kit_is_made(tmp_path, monkeypatch) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    text = re.sub(r"^total = (\S+)$", lambda m: f"total = {float(m[1]) + 1:g}",  # room for the pending point
                  (assignments.FOLDER / "e533-hw5.toml").read_text(), count=1, flags=re.MULTILINE)
    (manifests / "e533-hw5.toml").write_text(text + '\n[pending]\n"music.transcribe" = 1\n')
    monkeypatch.setattr(assignments, "FOLDER", manifests)
    result = CliRunner().invoke(main, ["package", "student", "e533-hw5", "--output", str(tmp_path / "k.zip")])
    assert result.exit_code == 0, result.output
    assert "warning: e533-hw5: " in result.output and "pending" in result.output
    assert "music.transcribe" in result.output


@pytest.mark.parametrize("args, message", [
    (["gradescope", "ift6135-a3", "--output", "autograder.tar"], "Gradescope takes the autograder as a zip"),
    (["student", "ift6135-a4", "--output", "kit"], "no assignment 'ift6135-a4'"),
], ids=["not-a-zip", "unknown-assignment"])
def test_bad_packaging_arguments_say_what_to_give(args, message, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["package", *args])
    assert result.exit_code != 0 and message in result.output and not list(tmp_path.iterdir())


def test_check_outside_a_kit_asks_for_the_assignment(tmp_path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "give --assignment NAME (see `grader assignments`)" in result.output


def test_check_of_a_folder_without_graded_files_says_so_once_and_fails(tmp_path) -> None:
    (tmp_path / "notes.md").write_text("todo\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--assignment", "cpsc663-2021"])
    assert result.exit_code == 1, result.output
    assert result.output.count("No graded file in the submission") == 1 and "found notes.md" in result.output
    assert "Expected solution.py, or a Jupyter notebook" in result.output
    assert "the submission has no vae.py: its 2 functions were not graded" in result.output


def test_topic_folders_go_in_by_rule_heavy_modules_only_when_students_may_run_them(tmp_path) -> None:
    course_dir = tmp_path / "course"
    for rel, text in {"__init__.py": "", "strategies.py": "", "t/__init__.py": "", "t/checks.py": HIDDEN,
                      "t/heavy.py": "QUICK = 1\n", "t/calibration.json": "{}", "t/__pycache__/checks.pyc": "",
                      "other/__init__.py": "", "other/checks.py": "", "shared/__init__.py": "",
                      "solutions/__init__.py": "", "solutions/t.py": "", "solutions/other.py": ""}.items():
        (course_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (course_dir / rel).write_text(text)
    manifest = tmp_path / "demo.toml"
    manifest.write_text("# as written\n")
    demo = assignments.Assignment("demo", "Demo", 3.0, {}, {"t.f": 1.0, "t.h": 2.0}, {}, manifest)

    def carried(found, audience):
        files, removed = content.course_files(found, audience, {}, layout=Layout(tmp_path))
        return {f.path.removeprefix("src/course/") for f in files}, removed

    student, removed = carried(demo, "student")
    assert student == {"__init__.py", "strategies.py", "t/__init__.py", "t/checks.py", "t/calibration.json",
                       "shared/__init__.py", "assignments/demo.toml", "kit.toml"}
    assert removed == ["course/t/checks.py: _secret_oracle", "course/t/checks.py: _deeper", "course/t/checks.py: hidden"]
    assert "t/heavy.py" in carried(replace(demo, students_run_heavy="quick"), "student")[0]
    grader_side, _ = carried(demo, "grader")
    assert grader_side == student | {"t/heavy.py", "solutions/__init__.py", "solutions/t.py"}


def test_without_reference_solutions_only_the_public_checks_run_and_the_report_says_so(tmp_path, monkeypatch) -> None:
    from grader.grade import grade

    monkeypatch.setitem(NAMED, "solutions", tmp_path / "not-here")
    (tmp_path / "empty").mkdir()
    report = grade(str(tmp_path / "empty"), assignment="cpsc663-2021")
    assert report.public_only and all(f.public for c in report.checks for f in c.facets)
    assert any("no reference solutions (a student kit), so only the public checks ran" in n for n in report.notes)

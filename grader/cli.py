"""The ``grader`` command line: thin click commands, one module each."""
from __future__ import annotations

import sys
from pathlib import Path

import click

FORMATS = ("table", "gradescope", "junit", "json")


@click.group()
def main() -> None:
    """gradekit: generate stubs and grade implementations of the course's graded API."""


@main.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if stubs/ is not what course/solutions/ generates.")
def stubs(check: bool) -> None:
    """Regenerate stubs/ from course/solutions/ (solution regions become NotImplementedError)."""
    from grader import stubgen
    from grader.target import NAMED

    try:
        if check:
            problems = stubgen.differences(NAMED["solutions"], NAMED["stubs"])
            for problem in problems:
                click.echo(problem, err=True)
            if problems:
                sys.exit(1)
            click.echo("stubs/ is up to date")
            return
        changed = stubgen.write(NAMED["solutions"], NAMED["stubs"])
    except stubgen.StubError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"regenerated {', '.join(changed)}" if changed else "stubs/ is up to date")


@main.command()
def assignments() -> None:
    """List the assignments: their units, points, and what is pending."""
    from grader import assignments as manifests

    for name in manifests.names():
        try:
            found = manifests.load(name)
        except manifests.AssignmentError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"{name}: {found.title}")
        click.echo(f"  {found.graded_points:g} of {found.total:g} points graded: "
                   f"{', '.join(f'{u} ({p:g})' for u, p in found.units.items()) or 'none yet'}")
        if found.heavy:
            click.echo(f"  training checks (--heavy quick|full; default {found.heavy_level}): "
                       f"{', '.join(f'{u} ({p:g})' for u, p in found.heavy.items())}")
        if found.pending:
            click.echo(f"  pending, topics not built yet ({sum(found.pending.values()):g} points): "
                       f"{', '.join(found.pending)}")
        if found.files:
            held = ", ".join(f"{file} ({'/'.join(topics)})" for file, topics in found.files.items())
            click.echo(f"  files: {held}")


@main.command()
def rubric() -> None:
    """Print every graded function's points, split over its facets (Markdown)."""
    from grader.grade import load_checks
    from grader.rubric import markdown

    click.echo(markdown(load_checks()), nl=False)


@main.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="What to write to --output (or to standard output).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the chosen format here; the table still goes to the terminal.")
@click.option("--public-only", is_flag=True, help="Only the public checks, as students run them at home.")
@click.option("--only", default="", metavar="NAMES",
              help="Comma-separated topics or topic.function names to grade, e.g. 'vae,divergences.mmd'.")
@click.option("--backend", type=click.Choice(("sandbox", "in-process")), default="sandbox", show_default=True,
              help="Where TARGET's code runs; in-process is for trusted code only (benchmarks, debugging).")
@click.option("--call-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds one call into TARGET may take before its worker is killed.")
@click.option("--import-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds importing one of TARGET's modules may take (libraries it imports included).")
@click.option("--assignment", metavar="NAME", help="Grade the units of one assignment, with its points and its "
              "handout's file names (see `grader assignments`).")
@click.option("--heavy", type=click.Choice(("none", "quick", "full")), default=None,
              help="Train the training checks at this size  [default: the assignment's heavy_default, else none]")
@click.option("--figures", type=click.Path(file_okay=False, path_type=Path),
              help="Save the training checks' figures here  [default: a 'figures' folder beside --output]")
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto", show_default=True,
              help="Where training runs; auto uses CUDA when torch sees a GPU.")
def grade(target: str, fmt: str, output: Path | None, public_only: bool, only: str, backend: str,
          call_timeout: float, import_timeout: float, assignment: str | None, heavy: str | None,
          figures: Path | None, device: str) -> None:
    """Grade TARGET: 'solutions', 'stubs', or a submission folder or zip.

    A submission holds one module per topic (vae.py, ...), the handout's file names (with
    --assignment), or Jupyter notebooks, whose definitions are pulled out without running them.
    """
    from grader.assignments import AssignmentError
    from grader.grade import grade as run
    from grader.submission import SubmissionFormatError
    from grader.target import TargetError

    names = tuple(name.strip() for name in only.split(",") if name.strip())
    if figures is None and output is not None:
        figures = output.absolute().parent / "figures"
    try:
        report = run(target, public_only=public_only, only=names, backend=backend, call_timeout=call_timeout,
                     import_timeout=import_timeout, assignment=assignment, heavy=heavy,
                     figures=figures.absolute() if figures is not None else None, device=device)
    except (TargetError, SubmissionFormatError) as err:
        raise click.BadParameter(str(err), param_hint="TARGET") from None
    except AssignmentError as err:
        raise click.BadParameter(str(err), param_hint="--assignment") from None
    _emit(report, fmt, output)


def _emit(report, fmt: str, output: Path | None) -> None:
    """The chosen format to ``output`` (and the table to the terminal), or to standard output."""
    from grader.exporters import EXPORTERS
    from grader.files import write_atomically

    if output is None:
        click.echo(EXPORTERS[fmt](report), nl=False)
        return
    click.echo(EXPORTERS["table"](report), nl=False)
    try:
        output.absolute().parent.mkdir(parents=True, exist_ok=True)
        write_atomically(output, EXPORTERS[fmt](report))
    except OSError as err:
        raise click.ClickException(f"could not write {output}: {err.strerror or err}") from None
    click.echo(f"wrote {fmt} to {output}")


@main.command()
@click.argument("folder", default=".")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="What to write to --output (or to standard output).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the chosen format here; the table still goes to the terminal.")
@click.option("--assignment", metavar="NAME", help="The assignment to check (default: the kit's own).")
def check(folder: str, fmt: str, output: Path | None, assignment: str | None) -> None:
    """Run the public checks on your files in FOLDER (default: here), as the course will.

    Exit status 0 when every public check passes, 1 below full public marks. The hidden checks
    count in the final grade.
    """
    from grader.assignments import AssignmentError
    from grader.kit import KitError, full_marks
    from grader.kit import check as run
    from grader.submission import SubmissionFormatError
    from grader.target import TargetError

    try:
        report = run(folder, assignment)
    except (TargetError, SubmissionFormatError) as err:
        raise click.BadParameter(str(err), param_hint="FOLDER") from None
    except (AssignmentError, KitError) as err:
        raise click.BadParameter(str(err), param_hint="--assignment") from None
    _emit(report, fmt, output)
    if not full_marks(report):
        sys.exit(1)


@main.group()
def package() -> None:
    """Build what one assignment is handed out and graded with."""


def _built(build, assignment: str, output: Path, force: bool) -> None:
    from grader.assignments import AssignmentError
    from grader.package import PackageError

    try:
        built = build(assignment, output, force=force)
    except AssignmentError as err:
        raise click.BadParameter(str(err), param_hint="ASSIGNMENT") from None
    except PackageError as err:
        raise click.ClickException(str(err)) from None
    for warning in built.warnings:
        click.echo(f"warning: {warning}", err=True)
    if built.left_out:
        click.echo(f"left out as hidden: {'; '.join(built.left_out)}")
    click.echo(f"wrote {built.path}: {built.files} files, {built.size / 1024:.0f} KiB")


_OUTPUT = click.option("--output", required=True, type=click.Path(path_type=Path),
                       help="Where to write it; one that exists is refused unless --force.")
_FORCE = click.option("--force", is_flag=True, help="Replace --output if it exists.")


@package.command("student")
@click.argument("assignment")
@_OUTPUT
@_FORCE
def package_student(assignment: str, output: Path, force: bool) -> None:
    """The student kit of ASSIGNMENT: a folder, or a zip when --output ends in .zip.

    It holds the handout's files as stubs, the public checks and `grader check`, and installs
    with `pip install`; no solution and no hidden check.
    """
    from grader.package.student import student_kit

    _built(student_kit, assignment, output, force)


@package.command("gradescope")
@click.argument("assignment")
@_OUTPUT
@_FORCE
def package_gradescope(assignment: str, output: Path, force: bool) -> None:
    """The Gradescope autograder zip of ASSIGNMENT: setup.sh, run_autograder and every check."""
    from grader.package.gradescope import gradescope_archive

    _built(gradescope_archive, assignment, output, force)


@main.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", required=True, metavar="NAME", help="The assignment to grade.")
def autograde(root: Path, assignment: str) -> None:
    """Grade ROOT/submission into ROOT/results/results.json, Gradescope's layout (run_autograder)."""
    from grader.autograde import autograde as run
    from grader.exporters import EXPORTERS

    click.echo(EXPORTERS["table"](run(root, assignment)), nl=False)


@main.command()
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", metavar="NAME", required=True, help="The assignment every submission is graded against.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for gradebook.csv and one folder per student; running again resumes.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Students graded at once on this machine (default: one per CPU).")
@click.option("--scheduler", metavar="ADDRESS", help="Grade on Dask instead: 'local:N' (a LocalCluster of N "
              "workers) or a scheduler's address, e.g. tcp://host:8786.")
@click.option("--heavy", type=click.Choice(("none", "quick", "full")), default=None,
              help="Train the training checks at this size  [default: the assignment's heavy_default]")
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto", show_default=True,
              help="Where training runs; with GPUs, one student per GPU at a time.")
@click.option("--force", is_flag=True, help="Grade again the students who already have a complete result.")
@click.option("--only", default="", metavar="NAMES", help="Comma-separated topics or topic.function names to grade.")
@click.option("--public-only", is_flag=True, help="Only the public checks.")
@click.option("--call-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds one call into a submission may take.")
@click.option("--import-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds importing one of a submission's modules may take.")
def batch(submissions: Path, assignment: str, output: Path, jobs: int | None, scheduler: str | None,
          heavy: str | None, device: str, force: bool, only: str, public_only: bool, call_timeout: float,
          import_timeout: float) -> None:
    """Grade a class: SUBMISSIONS is a folder of student folders or zips, or a bulk-export zip
    (Gradescope, Moodle). Writes per student results.json, feedback.md and feedback.html, and gradebook.csv."""
    from grader.assignments import AssignmentError
    from grader.batch import Options, default_jobs, run_batch
    from grader.batch.cluster import parse_scheduler
    from grader.batch.store import BatchBusy
    from grader.submission import SubmissionFormatError

    try:
        scheduler = parse_scheduler(scheduler) if scheduler else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--scheduler") from None
    names = tuple(name.strip() for name in only.split(",") if name.strip())
    options = Options(assignment, names, public_only, call_timeout, import_timeout, jobs or default_jobs(), scheduler,
                      force, heavy, device)
    try:
        run_batch(submissions, output, options, echo=click.echo)
    except AssignmentError as err:
        raise click.BadParameter(str(err), param_hint="--assignment") from None
    except SubmissionFormatError as err:
        raise click.BadParameter(str(err), param_hint="SUBMISSIONS") from None
    except (BatchBusy, OSError) as err:
        raise click.ClickException(str(err)) from None

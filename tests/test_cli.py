"""The ``lifecircle`` command in-process: exit codes, reports, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LAT, LON, clinic

from geo.cli import main
from geo.layers.store import read_layer
from geo.schema import LAYER_NAMES

EMPTY = '{"type":"FeatureCollection","features":[]}\n'


@pytest.fixture
def clean_store(clinics_store: Path) -> Path:
    for layer in LAYER_NAMES:
        path = clinics_store / f"{layer}.geojson"
        if not path.exists():
            path.write_text(EMPTY, encoding="utf-8")
    return clinics_store


def test_validate_clean_store(clean_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", str(clean_store)]) == 0
    assert "全部通过 / all layers valid" in capsys.readouterr().out


def test_validate_broken_store(
    clean_store: Path, write_geojson, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_geojson(
        clean_store / "clinics.geojson",
        [clinic("C1", "甲"), clinic("C2", "乙", LON + 0.01, level="statoin")],
    )
    assert main(["validate", "--data", str(clean_store)]) == 1
    out = capsys.readouterr().out
    assert f"{path} · feature C2 · field 'level'" in out
    assert "1 error(s)" in out
    assert main(["validate", "--data", str(clean_store), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(p["file"], p["feature"], p["field"]) for p in report] == [(str(path), "C2", "level")]


def test_import_and_export_happy_path(
    store: Path, tmp_path: Path, write_csv, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(
        tmp_path / "gaode.csv",
        [["名称", "lng", "lat"], ["长白站", LON, LAT], ["延吉站", LON + 0.01, LAT]],
    )
    argv = ["import", "clinics", str(source), "--data", str(store), "--crs", "gcj02"]
    argv += ["--map", "名称=name", "--set", "level=station"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "导入 2 条到 clinics" in out and "imported 2 features into clinics" in out
    assert read_layer("clinics", store)["level"].tolist() == ["station", "station"]

    target = tmp_path / "out" / "c.csv"
    target.parent.mkdir()
    argv = ["export", "clinics", "--data", str(store), "--crs", "gcj02", "--out", str(target)]
    assert main(argv) == 0
    assert f"exported clinics → {target}" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    # Exported in GCJ-02 again: the original Gaode coordinates come back (to ~1 cm).
    assert rows[0]["name"] == "长白站"
    assert float(rows[0]["lon"]) == pytest.approx(LON, abs=2e-7)
    assert float(rows[0]["lat"]) == pytest.approx(LAT, abs=2e-7)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["import", "clinics", "missing.csv"], "文件不存在 / file not found"),
        (
            ["import", "clinics", "bad.csv"],
            "导入失败，未写入任何数据 / import failed, nothing written",
        ),
        (["import", "clinics", "bad.csv", "--crs", "mars"], "mars"),
        (["export", "clinics", "--out", "x.txt"], "cannot tell the format"),
    ],
)
def test_bad_input_exits_1_with_bilingual_message(
    clinics_store: Path,
    tmp_path: Path,
    write_csv,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    write_csv(tmp_path / "bad.csv", [["name", "level", "lon", "lat"], ["甲", "nonsense", LON, LAT]])
    before = (clinics_store / "clinics.geojson").read_bytes()
    assert main([*argv, "--data", str(clinics_store)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lifecircle: ")
    assert expected in captured.err
    assert "Traceback" not in captured.err
    assert (clinics_store / "clinics.geojson").read_bytes() == before


def test_failed_import_report_names_row_and_field(
    clinics_store: Path, tmp_path: Path, write_csv, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(
        tmp_path / "bad.csv", [["name", "level", "lon", "lat"], ["甲", "nonsense", LON, LAT]]
    )
    assert main(["import", "clinics", str(source), "--data", str(clinics_store)]) == 1
    err = capsys.readouterr().err
    assert f"{source} · feature row 2 · field 'level'" in err


def test_skip_invalid_flag(
    store: Path, tmp_path: Path, write_csv, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["name", "level", "lon", "lat"], ["甲", "station", LON, LAT], ["乙", "bad", LON, LAT]]
    source = write_csv(tmp_path / "mixed.csv", rows)
    assert main(["import", "clinics", str(source), "--data", str(store), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "（跳过 1 条）" in out and "row 3 · field 'level'" in out


def test_malformed_pair_and_unknown_layer_are_usage_errors(store: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import", "clinics", "x.csv", "--data", str(store), "--map", "nonsense"])
    assert "KEY=VALUE" in str(info.value.code)
    with pytest.raises(SystemExit) as info:
        main(["import", "hospitals", "x.csv"])
    assert info.value.code == 2


def test_help_in_a_real_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "geo.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "lifecircle" in result.stdout and "import" in result.stdout


def test_every_command_teaches_by_examples_that_parse() -> None:
    import shlex

    from geo import cli_batch
    from geo.cli import _EXAMPLES, build_parser
    from geo.cli_district import EXAMPLES
    from geo.cli_store import EXAMPLES as STORE_EXAMPLES
    from geo.cli_surface import EXAMPLES as SURFACE_EXAMPLES

    examples = {**_EXAMPLES, **EXAMPLES, **STORE_EXAMPLES, **SURFACE_EXAMPLES, **cli_batch.EXAMPLES}
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(examples) == set(commands)  # no command without examples
    for name, command in commands.items():
        assert "examples / 示例:" in command.format_help(), name
        for line in examples[name]:
            words = shlex.split(line.split("#")[0].split(">")[0])
            start = words.index("lifecircle") + 1  # after any VAR=value prefix
            parser.parse_args(words[start:])  # exits (SystemExit) on an unknown option

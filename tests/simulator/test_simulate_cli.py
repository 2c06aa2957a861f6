from __future__ import annotations

import pytest

from hotline.cli import build_parser, main
from hotline.settings import DEV_ADMIN_TOKEN, DEV_AUTH_TOKEN
from simulator.callstats import LoadReport
from simulator.cli import EXIT_NOT_STARTED, EXIT_OK, EXIT_TWILIO_ERRORS, exit_status


def test_simulate_takes_the_load_and_the_target_from_its_options() -> None:
    args = build_parser().parse_args(
        ["simulate", "--calls", "200", "--rate", "5", "--agents", "20", "--speed", "10"]
    )
    assert (args.calls, args.rate, args.agents, args.speed) == (200, 5.0, 20, 10.0)
    assert args.url is None and args.token == DEV_AUTH_TOKEN
    assert args.admin_token == DEV_ADMIN_TOKEN and not args.quiet
    assert args.seed == 1 and args.talk_mean == 180.0 and 0 < args.no_answer < 0.1


@pytest.mark.parametrize(
    "option", [["--rate", "0"], ["--calls", "-3"], ["--no-answer", "1.5"], ["--speed", "x"]]
)
def test_impossible_loads_are_refused_by_the_parser(option: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["simulate", *option])
    assert refused.value.code == 2


def test_the_exit_status_is_non_zero_when_twilio_saw_an_error() -> None:
    clean = LoadReport.from_outcomes([])
    assert exit_status(clean) == EXIT_OK
    assert exit_status(LoadReport.from_outcomes([], errors_by_code={11200: 2})) == (
        EXIT_TWILIO_ERRORS
    )


def test_no_hotline_at_the_url_stops_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["simulate", "--url", "http://127.0.0.1:9", "--calls", "1", "--quiet"])
    assert status == EXIT_NOT_STARTED
    assert "no Hotline answers at http://127.0.0.1:9" in capsys.readouterr().err

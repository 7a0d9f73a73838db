"""The instance contract, strict loading and seeded generation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import numpy as np
import pytest

from offloadlab.core.errors import InputError, UnknownNameError
from offloadlab.physics.orbits import Stations, contact_windows, parse_tle
from offloadlab.scenarios.leo_inference.problem import PROBLEM, model_of
from offloadlab.scenarios.leo_inference.variants import load_paper_tables


def test_contract_keys_and_paper_settings(paper_json):
    d = paper_json
    assert d["scenario"] == "leo-inference"
    assert {"params", "epoch_utc", "tle", "ground_stations", "contact_windows"} <= set(d)
    p = d["params"]
    assert p["satellites"] == len(d["tle"]) == 10
    assert (p["altitude_min_km"], p["altitude_max_km"]) == (500.0, 700.0)
    assert (p["ground_rate_bps"], p["isl_rate_bps"]) == (10e6, 100e6)
    assert (p["servers"], p["containers_per_server"]) == (3, 4)
    assert list(p["latency_interval_ms"]) == [15.0, 20.0] and p["nag_beta"] == 0.01
    assert [s["name"] for s in d["ground_stations"]] == ["Miyun"]
    assert set(d["ground_stations"][0]) == {"name", "lat_deg", "lon_deg", "alt_m", "min_elevation_deg"}
    assert datetime.fromisoformat(d["epoch_utc"].replace("Z", "+00:00")).tzinfo is not None
    for w in d["contact_windows"]:
        assert set(w) == {"sat", "station", "start_s", "end_s"} and 0 <= w["start_s"] <= w["end_s"] <= 3600
    assert len(d["contact_windows"]) >= 1  # plane 0 is aligned to pass over Miyun in its first orbit
    json.dumps(d)


def test_windows_are_those_of_the_tles(paper_json):
    d = paper_json
    st = d["ground_stations"][0]
    stations = Stations(*(np.array([st[k]]) for k in ("lat_deg", "lon_deg", "alt_m", "min_elevation_deg")))
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    w = contact_windows([parse_tle(*t) for t in d["tle"]], stations, epoch, 3600.0)
    assert [x["sat"] for x in d["contact_windows"]] == w.sat.tolist()
    assert np.allclose([x["start_s"] for x in d["contact_windows"]], w.start_s, atol=1e-3)


def test_generation_is_seeded(paper_json):
    again = PROBLEM.make_instance(3, "paper")
    other = PROBLEM.make_instance(4, "paper")
    assert again == paper_json
    assert other["tasks"] != paper_json["tasks"] and other["tle"] == paper_json["tle"]


@pytest.mark.parametrize("level, mean_gap", [("light", 7.5), ("normal", 2.0), ("heavy", 1.0)])
def test_arrival_levels(level, mean_gap):
    d = PROBLEM.make_instance(0, "paper", arrivals=level, hours=2.0)
    n = np.bincount(d["tasks"]["sat"], minlength=10)
    # per-satellite rate within 20 % of the level (light: mean of 1/U(5, 10) is about 1/7.2)
    assert np.mean(n) / 7200.0 == pytest.approx(1.0 / mean_gap, rel=0.2)


def test_overrides_and_stations():
    d = PROBLEM.make_instance(1, "default", satellites=5, hours=0.5, stations=["Miyun", "Sanya"])
    assert len(d["tle"]) == 5 and [s["name"] for s in d["ground_stations"]] == ["Miyun", "Sanya"]
    assert d["satellites"][2]["processor"] == load_paper_tables().processors[2]
    with pytest.raises(InputError, match="unknown station 'Atlantis'"):
        PROBLEM.make_instance(1, "default", stations=["Atlantis"])
    with pytest.raises(InputError) as err:
        PROBLEM.make_instance(1, "default", ground_rate_bps=-1.0)
    assert err.value.field == "params.ground_rate_bps"
    with pytest.raises(UnknownNameError):
        PROBLEM.make_instance(1, "nope")


def test_round_trip(paper_json):
    inst = PROBLEM.load_instance(json.loads(json.dumps(paper_json)))
    assert inst.to_json() == paper_json


def _broken(d, edit):
    d = copy.deepcopy(d)
    edit(d)
    return d


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["tle"][1].__setitem__(0, d["tle"][1][0][:-1] + "0"), "tle[1][0]"),
        (lambda d: d["tle"][2].__setitem__(1, "2 garbage"), "tle[2][1]"),
        (lambda d: d["tle"].pop(), "tle"),
        (lambda d: d["contact_windows"][0].__setitem__("station", 5), "contact_windows[0].station"),
        (lambda d: d["contact_windows"][0].__setitem__("end_s", -1.0), "contact_windows[0].end_s"),
        (lambda d: d["params"].__setitem__("isl_rate_bps", -5.0), "params.isl_rate_bps"),
        (lambda d: d["params"].__setitem__("ground_loss", float("nan")), "params.ground_loss"),
        (lambda d: d["params"].pop("alpha"), "params.alpha"),
        (lambda d: d["ground_stations"][0].pop("min_elevation_deg"), "ground_stations[0].min_elevation_deg"),
        (lambda d: d["ground_stations"][0].__setitem__("lat_deg", 95.0), "ground_stations[0].lat_deg"),
        (lambda d: d["tasks"]["arrival_s"].__setitem__(0, -3.0), "tasks.arrival_s"),
        (lambda d: d["tasks"]["sat"].__setitem__(0, 99), "tasks.sat"),
        (lambda d: d["tasks"]["sat"].__setitem__(0, 10**30), "tasks.sat"),  # beyond a C long: no OverflowError
        (lambda d: d["initial_queue"].__setitem__(0, 10**30), "initial_queue"),
        (lambda d: d["params"].__setitem__("round_s", 1e-300), "params.round_s"),
        (lambda d: d["params"].__setitem__("image_kb_max", 1e30), "params.image_kb_max"),
        (lambda d: d["params"].__setitem__("result_kb", 1e300), "params.result_kb"),  # bounded: 1 GB a result
        (lambda d: d["satellites"][1].pop("local_accuracy"), "satellites[1].local_accuracy"),
        (lambda d: d["satellites"][1].__setitem__("local_accuracy", 72.0), "satellites[1].local_accuracy"),
        (lambda d: d.pop("initial_queue"), "initial_queue"),
        (lambda d: d.__setitem__("epoch_utc", "yesterday"), "epoch_utc"),
        (lambda d: d.__setitem__("scenario", "satellite-mec"), "scenario"),
        (lambda d: d["tasks"]["slots"].__setitem__(0, 2), "tasks.slots"),  # the paper preset's tasks take 1 slot
        (lambda d: d["tasks"]["arrival_s"].__setitem__(1, d["tasks"]["arrival_s"][2] + 0.01), "tasks.arrival_s[2]"),
        (lambda d: d["contact_windows"].insert(1, dict(d["contact_windows"][0])), "contact_windows[1]"),
        (lambda d: d["contact_windows"].reverse(), "contact_windows[1]"),
    ],
)
def test_strict_loading_names_the_field(paper_json, edit, field):
    with pytest.raises(InputError) as err:
        PROBLEM.load_instance(_broken(paper_json, edit))
    assert err.value.field == field


def test_windows_that_contradict_the_tles_are_an_error_naming_satellite_and_station(paper_json):
    w0 = paper_json["contact_windows"][0]
    shifted = _broken(paper_json, lambda d: d["contact_windows"][0].__setitem__("end_s", w0["end_s"] - 60.0))
    with pytest.raises(InputError, match=r"differs from the TLEs'") as err:
        PROBLEM.load_instance(shifted)
    assert err.value.field == f"contact_windows (satellite {w0['sat']}, station Miyun)"
    # within the documented tolerance the windows are accepted
    PROBLEM.load_instance(
        _broken(paper_json, lambda d: d["contact_windows"][0].__setitem__("end_s", w0["end_s"] - 0.5))
    )
    # TLEs swapped between satellites of different planes: their windows no longer match the orbits
    swapped = _broken(paper_json, lambda d: d.__setitem__("tle", d["tle"][5:] + d["tle"][:5]))
    with pytest.raises(InputError, match=r"contact_windows \(satellite \d+, station Miyun\)"):
        PROBLEM.load_instance(swapped)


def test_a_window_miss_is_a_named_violation(paper_json):
    inst = PROBLEM.load_instance(paper_json)
    m = model_of(inst)
    slack = m.paths.window_s - m.paths.up_s - m.paths.back_s - inst.params.server_task_s
    n = int(np.argmin(np.where(m.reachable, slack, np.inf)))  # the direct task closest to its window's end
    copies = int(slack[n] // m.paths.up_s[n]) + 2  # uploads queued ahead of the last copy push it past the window
    d = copy.deepcopy(paper_json)
    t = d["tasks"]
    for key in t:
        t[key] = [t[key][n]] * copies
    twin = PROBLEM.load_instance(d)
    ev = PROBLEM.evaluate(twin, model_of(twin).decision_from_targets(np.arange(copies)))
    assert not ev.feasible[0] and ev.violations[0] == ["window_miss"]
    fewer = PROBLEM.evaluate(twin, model_of(twin).decision_from_targets(np.r_[np.arange(copies - 1), -1]))
    assert fewer.feasible[0]

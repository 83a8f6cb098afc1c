"""The model: determinism, common random numbers, monotone responses to more echelons, queueing theory,
a seeded golden run, and every shipped configuration run in short form."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import metrics
from sim.config import CONF_DIR, load_config
from sim.experiment import compare, run, simulate
from sim.model.events import EventLog, read_log, write_log
from sim.model.incidents import generate_incidents
from sim.model.model import EchelonModel
from sim.model.world import World
from sim.site.build import build_site

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def short(cache_dir):
    return [f"cache_dir={cache_dir}", "run.days=5", "run.replications=2"]


def test_same_seed_gives_an_identical_event_log(daishan_site, short):
    cfg = load_config(short)
    a = simulate(daishan_site, cfg, 0).events
    b = simulate(daishan_site, cfg, 0).events
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 50
    other = simulate(daishan_site, load_config([*short, "seed=99"]), 0).events
    assert not other.equals(a)


def test_policies_face_the_same_incidents(daishan_site, short):
    cfgs = {p: load_config([*short, f"policy={p}"]) for p in ("police_only", "echelon_135", "echelon_open")}
    reps = compare(cfgs)
    for r in range(2):
        mine = [x for x in reps if x.replication == r]
        for x in mine[1:]:
            pd.testing.assert_frame_equal(x.incidents, mine[0].incidents)
            occurred = [
                m.events[m.events["kind"] == "occurred"][["t_s", "incident", "detail"]].reset_index(drop=True)
                for m in (x, mine[0])
            ]
            pd.testing.assert_frame_equal(*occurred)
    assert not reps[0].incidents.equals(reps[3].incidents)  # replications differ from each other


def test_the_log_round_trips_through_parquet_and_csv(daishan_site, short, tmp_path):
    events = simulate(daishan_site, load_config(short), 0).events
    write_log(events, tmp_path)
    for name in ("events.parquet", "events.csv"):
        back = read_log(tmp_path / name)
        pd.testing.assert_frame_equal(EventLog.from_frame(back).to_frame(), events, check_exact=False)


def test_more_echelons_never_lower_tier2_compliance(daishan_site, cache_dir):
    base = [f"cache_dir={cache_dir}", "run.days=3", "incidents.rate_multiplier=150"]
    rows = []
    for n in (1, 2):
        cfg = load_config([*base, f"fleet.echelons_per_grid={n}"])
        for r in range(3):
            rep = simulate(daishan_site, cfg, r)
            table = metrics.incident_table(rep.events, rep.incidents)
            rows.append((n, r, metrics.tier_met(table, 2).mean(), len(table)))
    met = {(n, r): share for n, r, share, _ in rows}
    for r in range(3):
        assert met[(2, r)] >= met[(1, r)]
    assert any(met[(2, r)] > met[(1, r)] for r in range(3))  # the load is high enough to matter


def test_mean_wait_matches_mg1_theory(cache_dir, tmp_path):
    """One police car, Poisson calls at one enterprise, fixed delays and travel, exponential handling:
    the mean wait for the car equals Pollaczek-Khinchine's Wq = lambda E[S^2] / (2 (1 - rho))."""
    facilities = tmp_path / "one.csv"
    facilities.write_text("role,name,lon,lat,kind\nenterprise,Only Ltd,122.002,30.004,manufacturing\n")
    calls_per_hour, handling_s, days = 1.0, 1200.0, 400

    def delay(key: str, dist: str, **params: float) -> list[str]:
        return [f"{key}.dist={dist}", *(f"++{key}.{k}={v}" for k, v in params.items())]

    overrides = [
        "site=file",
        f"site.path={DATA / 'two_islands.osm'}",
        f"site.facilities={facilities}",
        f"cache_dir={cache_dir}",
        "policy=police_only",
        "fleet.police_cars_per_station=1",
        "fleet.redirect_while_returning=false",  # the queue's server drives home before its next call
        f"run.days={days}",
        "run.replications=1",
        "incidents.hour_profile=[" + ",".join(["1"] * 24) + "]",
        f"incidents.kinds.theft.rate_per_enterprise_year={calls_per_hour * 24 * 365}",
        *delay("incidents.kinds.theft.handling", "exponential", mean_s=handling_s),
        *delay("incidents.staff_detection", "fixed", value_s=10),
        "incidents.night_staff_detection_factor=1",
        *delay("incidents.passerby_detection", "fixed", value_s=100000),
        *delay("delays.call_answer", "fixed", value_s=0),
        *delay("delays.call_interview_locate", "fixed", value_s=0),
        *delay("delays.mobilise_police", "fixed", value_s=60),
    ]
    overrides += [
        f"incidents.kinds.{k}.rate_per_enterprise_year=0"
        for k in ("data_leak", "dispute", "chemical_leak", "fire")
    ]
    overrides += ["incidents.kinds.illegal_drone.rate_per_place_day=0"]
    cfg = load_config(overrides)
    site = build_site(cfg)
    (rep,) = run(cfg, site)
    ev = rep.events
    police = site.stations["node"].iloc[0]
    node = site.enterprises["node"].iloc[0]
    travel = site.router.travel_time_s(police, node) * cfg.network.emergency_time_factor
    back = site.router.travel_time_s(node, police)
    fixed = 60.0 + travel + back
    lam = calls_per_hour / 3600.0
    mean_s = fixed + handling_s
    second = fixed**2 + 2 * fixed * handling_s + 2 * handling_s**2  # E[(c + X)^2], X exponential
    rho = lam * mean_s
    wq_theory = lam * second / (2 * (1 - rho))

    decided = ev[ev["kind"] == "decided"].set_index("incident")["t_s"]
    dispatched = ev[(ev["kind"] == "dispatched") & (ev["unit_kind"] == "police")].set_index("incident")["t_s"]
    waits = (dispatched - decided.reindex(dispatched.index)).dropna().to_numpy()
    waits = waits[len(waits) // 10 :]  # drop the warm-up tenth
    batches = np.array_split(waits, 20)
    means = np.array([b.mean() for b in batches])
    half = 2.093 * means.std(ddof=1) / math.sqrt(len(means))  # t(0.975, 19)
    assert 0.2 < rho < 0.6
    assert abs(waits.mean() - wq_theory) < max(half, 0.05 * wq_theory), (waits.mean(), wq_theory, half)


GOLDEN = DATA / "golden_run.json"
GOLDEN_OVERRIDES = ["run.days=5", "run.replications=1", "incidents.rate_multiplier=10"]


def _fingerprint(events: pd.DataFrame) -> str:
    text = events.assign(t_s=events["t_s"].round(6), value=events["value"].round(6)).to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_seeded_golden_run(daishan_site, cache_dir):
    """A seeded run's log, pinned. When a change alters it on purpose, regenerate the file and say why in
    its ``_why`` field (keys starting with '_' are notes, not compared)."""
    cfg = load_config([f"cache_dir={cache_dir}", *GOLDEN_OVERRIDES])
    events = simulate(daishan_site, cfg, 0).events
    got = {
        "overrides": GOLDEN_OVERRIDES,
        "events": len(events),
        "incidents": int((events["kind"] == "occurred").sum()),
        "outcomes": events[events["kind"] == "outcome"]["detail"].value_counts().sort_index().to_dict(),
        "redirected": int((events["detail"] == "redirected").sum()),
        "sha256": _fingerprint(events),
    }
    expected = {k: v for k, v in json.loads(GOLDEN.read_text()).items() if not k.startswith("_")}
    assert got == expected, f"golden run changed; if intended, update {GOLDEN} with {json.dumps(got)}"


def test_mesa_step_advances_the_clock_by_one_tick(daishan_site, short):
    cfg = load_config(short)
    model = EchelonModel(
        daishan_site, cfg, generate_incidents(daishan_site, cfg, 0), 0, World.build(daishan_site)
    )
    for _ in range(3):
        model.step()
    assert model.env.now == 3 * cfg.run.tick_s
    assert len(model.agents) > len(daishan_site.enterprises)  # every kind of agent is registered with Mesa


@pytest.mark.slow
@pytest.mark.parametrize("group", ["policy", "incidents"])
def test_every_shipped_model_config_runs(group, daishan_site, cache_dir):
    for option in sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml")):
        cfg = load_config([f"cache_dir={cache_dir}", f"{group}={option}", "run.days=2", "run.replications=1"])
        rep = simulate(daishan_site, cfg, 0)
        assert (rep.events["kind"] == "occurred").sum() == len(rep.incidents) > 0, option
        assert (rep.events["kind"] == "outcome").sum() > 0, option


def test_police_only_has_no_platform_channels(daishan_site, cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}", "policy=police_only", "run.days=10", "run.replications=1"])
    ev = simulate(daishan_site, cfg, 0).events
    channels = set(ev.loc[ev["kind"] == "reported", "detail"])
    assert channels == {"call_110"}  # no one-key terminals, no drone control centre before the platform
    tiers = ev[(ev["kind"] == "dispatched") & (ev["tier"] > 0)]
    assert set(tiers["unit_kind"]) == {"police"}  # the fire brigade (tier 0) comes under every policy


def test_guards_are_busy_only_while_handling(daishan_site, short):
    ev = simulate(daishan_site, load_config(short), 0).events
    guards = ev[ev["unit_kind"] == "own_security"]
    cleared = guards[guards["kind"] == "cleared"].set_index("unit")["t_s"]
    back = guards[guards["kind"] == "returned"].set_index("unit")["t_s"]
    assert len(cleared) > 0 and back.reindex(cleared.index).equals(cleared)


def test_a_tier_with_no_unit_is_logged_as_unserved_and_missed(daishan_site, cache_dir):
    cfg = load_config(
        [f"cache_dir={cache_dir}", "fleet.echelons_per_grid=0", "run.days=10", "run.replications=1"]
    )
    rep = simulate(daishan_site, cfg, 0)
    ev = rep.events
    unserved = ev[(ev["kind"] == "unserved") & (ev["tier"] > 0)]
    assert len(unserved) > 0 and set(unserved["detail"]) == {"echelon"}
    table = metrics.incident_table(ev, rep.incidents)
    assert not metrics.tier_met(table, 2).any()  # counted as missed, not dropped


def test_queued_requests_are_served_or_cancelled_after_the_incident_is_over(daishan_site, cache_dir):
    cfg = load_config(
        [
            f"cache_dir={cache_dir}",
            "incidents.rate_multiplier=60",
            "fleet.police_cars_per_station=1",
            "run.days=2",
            "run.replications=1",
        ]
    )
    ev = simulate(daishan_site, cfg, 0).events
    queued = ev[ev["kind"] == "queued"]
    cancelled = ev[ev["kind"] == "cancelled"]
    assert len(queued) > 0
    outcome_t = ev[ev["kind"] == "outcome"].set_index("incident")["t_s"]
    assert (cancelled["t_s"].to_numpy() >= outcome_t.reindex(cancelled["incident"]).to_numpy()).all()

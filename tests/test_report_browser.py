"""summary.html in a real browser: headless Chromium opens a small comparison's report.

Checks that every image loads and that nothing is wider than a 1280-pixel window, and keeps a screenshot
of the whole page as an artefact (``results/test-artefacts/summary.png``, ignored by git) for a person to
look at. Chromium is a system program, not a Python package: ``make browser`` installs it with apt-get
when run as root (CI does; ``make test`` tries), and without it this test is skipped, saying why, unless
``ECHELON_REQUIRE_BROWSER=1`` (set by .ci/run) makes a missing browser a failure.

No selenium or driver: the page is copied beside the original (so its images resolve the same way) with a
script appended that measures the page once it has loaded and writes the result, as JSON, into the DOM,
which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.cli import main
from sim.config import PROJECT_DIR

WIDTH = 1280
ARTEFACTS = PROJECT_DIR / "results" / "test-artefacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """
<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const width = root.clientWidth;  // the window less any vertical scrollbar
  const box = (el) => el.getBoundingClientRect();
  const wide = [...document.body.querySelectorAll("*")].filter((el) => box(el).right > width + 0.5);
  const outermost = wide.filter((el) => !wide.includes(el.parentElement));
  const out = document.createElement("pre");
  out.id = "echelon-probe";
  out.textContent = JSON.stringify({
    scrollWidth: root.scrollWidth,
    clientWidth: width,
    innerWidth: window.innerWidth,
    height: root.scrollHeight,
    images: [...document.images].map((img) => ({
      src: img.getAttribute("src"),
      loaded: img.complete && img.naturalWidth > 0,
      naturalWidth: img.naturalWidth,
    })),
    wide: outermost.slice(0, 20).map((el) => ({
      tag: el.tagName.toLowerCase(), width: Math.round(box(el).width), right: Math.round(box(el).right),
      text: (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 80),
    })),
  });
  document.body.appendChild(out);
});
</script>
"""


def _browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = (
            "no Chromium found (looked for " + ", ".join(BROWSERS) + "): run `make browser` as root, or "
            "install the distribution's chromium package, to check summary.html in a real browser"
        )
        if os.environ.get("ECHELON_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (ECHELON_REQUIRE_BROWSER=1: required here)")
        pytest.skip(reason)
    return found


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} failed: {result.stderr[-2000:]}"
    return result


def _measure(browser: str, profile: Path, page_html: Path) -> dict:
    """What Chromium measures on ``page_html`` at the window's width (the probe above)."""
    probe = page_html.with_name(".browser-probe.html")
    text = page_html.read_text(encoding="utf-8")
    probe.write_text(text.replace("</body>", PROBE + "</body>"))
    dom = _chromium(
        browser,
        profile,
        f"--window-size={WIDTH},900",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.as_uri(),
    ).stdout
    found = re.search(r'<pre id="echelon-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe script did not run in Chromium; the page dumped was:\n" + dom[:2000]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def page(tmp_path_factory, cache_dir):
    """A small comparison's summary.html, and what Chromium measured on it at 1280 px."""
    browser = _browser()
    results = tmp_path_factory.mktemp("browser-results")
    argv = ["compare", "run.days=3", "run.replications=2", f"results_dir={results}", f"cache_dir={cache_dir}"]
    assert main(argv) == 0
    (folder,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    summary = folder / "summary.html"
    profile = tmp_path_factory.mktemp("chromium-profile")
    measured = _measure(browser, profile, summary)

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "summary.png"
    height = max(900, min(int(measured["height"]) + 20, 30_000))  # the whole page, within reason
    _chromium(browser, profile, f"--window-size={WIDTH},{height}", f"--screenshot={shot}", summary.as_uri())
    shutil.copy2(summary, ARTEFACTS / "summary.html")
    for image in folder.glob("*.png"):  # beside the copy, so it opens with its figures
        shutil.copy2(image, ARTEFACTS / image.name)
    (ARTEFACTS / "summary-measured.json").write_text(json.dumps(measured, indent=2) + "\n")
    print(f"screenshot of summary.html at {WIDTH} px: {shot}")
    return {"measured": measured, "screenshot": shot, "folder": folder}


def test_screenshot_is_kept_as_an_artefact(page):
    shot = page["screenshot"]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
    assert shot.stat().st_size > 10_000, f"{shot} looks empty"


def test_every_image_loads(page):
    images = page["measured"]["images"]
    assert images, "summary.html shows no figure"
    broken = [i["src"] for i in images if not i["loaded"]]
    assert not broken, f"images that did not load in Chromium: {broken} (in {page['folder']})"


def test_nothing_is_wider_than_the_page(page):
    m = page["measured"]
    if m["scrollWidth"] > m["clientWidth"]:
        offenders = "\n".join(
            f"  <{w['tag']}> {w['width']} px wide, to x={w['right']}: {w['text']!r}" for w in m["wide"]
        )
        pytest.fail(
            f"summary.html is {m['scrollWidth']} px wide in a {m['clientWidth']} px window; "
            f"outermost elements past the right edge:\n{offenders}\nscreenshot: {page['screenshot']}"
        )


@pytest.mark.slow
def test_the_grid_study_report_opens_whole_in_a_browser(tmp_path, cache_dir):
    """grid.html (`echelon grid`): every figure loads and nothing runs past a 1280-pixel window."""
    browser = _browser()
    results = tmp_path / "results"
    argv = ["grid", "run.days=2", "run.replications=2", "lab.loads=[stress]", "lab.refine_load=stress"]
    assert main([*argv, f"results_dir={results}", f"cache_dir={cache_dir}"]) == 0
    (folder,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    measured = _measure(browser, tmp_path / "profile", folder / "grid.html")
    images = measured["images"]
    assert len(images) == 3 and all(i["loaded"] for i in images), images
    assert measured["scrollWidth"] <= measured["clientWidth"], measured["wide"]


FONT_PROBE = """
<script>
document.fonts.ready.then(() => {
  const out = document.createElement("pre");
  out.id = "echelon-fonts";
  out.textContent = JSON.stringify({
    faces: [...document.fonts].map((f) => ({family: f.family.replace(/"/g, ""), status: f.status})),
    body: getComputedStyle(document.body).fontFamily,
  });
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.parametrize("page_name", ["inject_cards", "aar"])
def test_a_chinese_page_draws_with_its_own_font(page_name, tmp_path):
    """A Chinese page on a machine with no CJK font: Chromium loads the page's embedded font (else every
    character would be a box). The screenshot is kept for a person to look at."""
    from sim.analysis.report import Block, to_html
    from sim.drill.msel import inject_cards_html
    from sim.drill.scenario import load_scenario
    from sim.webfont import EMBEDDED_FAMILY

    browser = _browser()
    scenario = load_scenario("xiushan_trade_secret_leak")
    if page_name == "inject_cards":
        page = inject_cards_html(scenario, "zh")
    else:  # the report's blocks, as an after-action report is made of them
        title = scenario.title["zh"]
        page = to_html([Block("h1", text=title), Block("p", text=scenario.summary["zh"])], lang="zh")
    path = tmp_path / f"{page_name}.html"
    path.write_text(page.replace("</body>", FONT_PROBE + "</body>"), encoding="utf-8")
    dom = _chromium(
        browser, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", path.as_uri()
    ).stdout
    found = re.search(r'<pre id="echelon-fonts">(.*?)</pre>', dom, re.S)
    assert found, "the font probe did not run in Chromium; the page dumped was:\n" + dom[:2000]
    fonts = json.loads(html.unescape(found.group(1)))
    assert {"family": EMBEDDED_FAMILY, "status": "loaded"} in fonts["faces"], fonts
    assert fonts["body"].replace('"', "").startswith(EMBEDDED_FAMILY), fonts["body"]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / f"{page_name}-zh.png"
    _chromium(
        browser, tmp_path / "profile", f"--window-size={WIDTH},1200", f"--screenshot={shot}", path.as_uri()
    )
    assert shot.stat().st_size > 10_000, f"{shot} looks empty"

"""bench/bench.py's results as tables, one printer per section, and as JSON."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Stats,
    mib,
    ms,
    ratio,
    table,
)
from shapes import Report


def per_unit(row: dict[str, Any], base: dict[str, Any], unit: str) -> str:
    """Service time per unit relative to the first row: 1.00 is linear, above is worse."""
    first = base["service"].p50 / base[unit]
    return f"{(row['service'].p50 / row[unit]) / first:.2f}" if first > 0 else "-"


def growth_table(
    growth: list[dict[str, Any]],
    unit: tuple[str, str],
    size: tuple[str, str],
    per_unit_ms: Callable[[float], str],
) -> str:
    """Service and floor times as ``unit`` grows: ``unit`` and ``size`` are (row key, label),
    ``per_unit_ms`` formats the service's milliseconds per unit."""
    (unit_key, unit_label), (size_key, size_label) = unit, size
    return table(
        [
            f"{unit_label}s",
            size_label,
            "service p50 ms",
            "cheapest p50 ms",
            f"service ms/{unit_label}",
            "per-unit vs first",
        ],
        [
            [
                str(g[unit_key]),
                str(g[size_key]),
                ms(g["service"].p50),
                ms(g["floor"].p50),
                per_unit_ms(g["service"].p50 / g[unit_key]),
                per_unit(g, growth[0], unit_key),
            ]
            for g in growth
        ],
    )


def quotient(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def report_table(items: list[Report]) -> str:
    return table(
        [
            "report",
            "service p50/p95 ms",
            "cheapest p50 ms",
            "service/cheapest",
            "ours p50 ms",
            "ours/cheapest",
            "naive p50 ms",
            "naive/service",
        ],
        [
            [
                r.name + ("  [" + "; ".join(r.notes) + "]" if r.notes else ""),
                f"{ms(r.service.p50)} / {ms(r.service.p95)}",
                ms(r.floor.p50),
                ratio(r.service.p50, r.floor.p50),
                ms(r.ours.p50) if r.ours else "-",
                ratio(r.ours.p50, r.floor.p50) if r.ours else "-",
                ms(r.naive_stats.p50) if r.naive_stats else "-",
                ratio(r.naive_stats.p50, r.service.p50) if r.naive_stats else "-",
            ]
            for r in items
            if r.service and r.floor
        ],
    )


def print_reports(results: dict[str, Any]) -> None:
    """Every report shape against its cheapest read, and whether the sums agree."""
    items: list[Report] = results["reports"]
    print(
        "\nissue 11: every report shape against the cheapest read that answers it"
        " (goal service/cheapest <= 1.25)"
    )
    print(report_table(items + results.get("memory_reports", [])))
    checked = [r for r in items if r.naive_agrees is not None]
    if checked:
        agree = all(r.naive_agrees for r in checked)
        print(
            f"naive sums {'agree' if agree else 'DO NOT agree'} with the service's call_count "
            f"in every bucket ({len(checked)} reports checked)"
        )
    both = [r for a in results.get("acdc", ()) for r in (a["qubicle"], a["acdc"])]
    checked = [r for r in items + both if r.floor_agrees is not None]
    if checked:
        wrong = [r.name for r in checked if not r.floor_agrees]
        print(
            f"the cheapest read's sums {'DO NOT agree' if wrong else 'agree'} with the "
            f"service's call_count in every bucket ({len(checked)} reports checked, both "
            "document shapes" + (f"; differ: {', '.join(wrong)})" if wrong else ")")
        )


def print_warm(results: dict[str, Any]) -> None:
    """Cached against cold service runs."""
    if results.get("warm"):
        print("\nwarm (no Cache-Control) vs cold (Cache-Control: no-cache), service")
        print(
            table(
                ["report", "cold p50 ms", "warm p50/p95 ms", "cold/warm"],
                [
                    [
                        w["report"],
                        ms(w["cold"].p50),
                        f"{ms(w['warm'].p50)} / {ms(w['warm'].p95)}",
                        ratio(w["cold"].p50, w["warm"].p50),
                    ]
                    for w in results["warm"]
                ],
            )
        )


def print_memory(results: dict[str, Any]) -> None:
    """The service's peak memory after the reports."""
    if results.get("memory_kib") is not None:
        names = ", ".join(r.name for r in results.get("memory_reports", []))
        print(
            f"\nservice peak memory (VmHWM) after the reports above ({names}): "
            f"{mib(results['memory_kib'])} (goal < 150 MiB; after start-up "
            f"{mib(results['startup_kib'])})"
        )


def print_kpis(results: dict[str, Any]) -> None:
    """Every KPI with totals against the published metrics."""
    if results.get("kpis"):
        print(
            "\nissue 9: every KPI with totals vs only the published metrics"
            " (goal kpis+totals/published <= 1.3)"
        )
        print(
            table(
                [
                    "queues report (KPI floor views)",
                    "published p50 ms",
                    "+totals p50 ms",
                    "KPIs+totals p50 ms",
                    "kpis+totals/published",
                    "without max_wait",
                    "published/cheapest",
                    "kpis/cheapest",
                    "kpis ours/cheapest",
                ],
                [
                    [
                        f"{k['period']} ({', '.join(k['kpi_views'])})",
                        ms(k["published"].p50),
                        ms(k["published_totals"].p50),
                        ms(k["kpis"].p50),
                        ratio(k["kpis"].p50, k["published"].p50),
                        ratio(k["kpis_no_max"].p50, k["published"].p50),
                        ratio(k["published"].p50, k["published_floor"].p50),
                        ratio(k["kpis"].p50, k["kpis_floor"].p50),
                        ratio(k["kpis_ours"].p50, k["kpis_floor"].p50),
                    ]
                    for k in results["kpis"]
                ],
            )
        )
        print(
            "(without max_wait: every other KPI with totals, one view read; kpis/cheapest:"
            " the service against the cheapest read of the KPI report, which itself costs"
            " kpis_floor/published_floor = "
            + ", ".join(
                f"{k['period']} {ratio(k['kpis_floor'].p50, k['published_floor'].p50)}"
                for k in results["kpis"]
            )
            + ")"
        )


def print_acdc(results: dict[str, Any]) -> None:
    """ACDC call_stat data against qubicle_session data of the same size."""
    if results.get("acdc"):
        print(
            "\nissue 8: ACDC call_stat data vs qubicle_session data of the same size"
            " (goal: service/cheapest within 5 %)"
        )
        rows = []
        for a in results["acdc"]:
            q, c = a["qubicle"], a["acdc"]
            rq = quotient(q.service.p50, q.floor.p50)
            rc = quotient(c.service.p50, c.floor.p50)
            rows.append(
                [
                    a["report"],
                    f"{ms(q.service.p50)} / {ms(q.floor.p50)}",
                    f"{rq:.2f}x",
                    f"{ms(c.service.p50)} / {ms(c.floor.p50)}",
                    f"{rc:.2f}x",
                    f"{100 * (rc / rq - 1):+.1f} %",
                ]
            )
        print(
            table(
                [
                    "report",
                    "qubicle service/cheapest ms",
                    "ratio",
                    "acdc service/cheapest ms",
                    "ratio",
                    "acdc vs qubicle",
                ],
                rows,
            )
        )


def print_before(results: dict[str, Any]) -> None:
    """This service against the one of an earlier commit."""
    if results.get("before"):
        print(
            f"\nissues 8 and 9: this service vs the one of {results['before_rev']}"
            " (each on an identical copy of the data with its own design doc; published"
            " metrics; goal: no slower within noise)"
        )
        print(
            table(
                [
                    "report",
                    "now p50 ms",
                    "before p50 ms",
                    "now/before",
                    "now/cheapest",
                    "before/cheapest",
                ],
                [
                    [
                        x["report"],
                        ms(x["now"].p50),
                        ms(x["before"].p50),
                        ratio(x["now"].p50, x["before"].p50),
                        ratio(x["now"].p50, x["now_floor"].p50),
                        ratio(x["before"].p50, x["before_floor"].p50),
                    ]
                    for x in results["before"]
                ],
            )
        )


def print_growth(results: dict[str, Any]) -> None:
    """How service time grows with months and with entities."""
    growth = results.get("growth_months") or []
    if growth:
        print("\ngrowth with months (queues daily, cold); per-unit vs first row: 1.00 = linear")
        print(growth_table(growth, ("months", "month"), ("modbs", "MoDBs"), ms))
    growth = results.get("growth_entities") or []
    if growth:
        print("\ngrowth with entities (queues daily 1 month, same data per queue, cold)")
        print(growth_table(growth, ("entities", "queue"), ("docs", "docs"), "{:.3f}".format))
    elif results.get("growth_note"):
        print(f"\ngrowth with entities: {results['growth_note']}")


def print_builds(results: dict[str, Any]) -> None:
    """The index builds this run did."""
    if any(x["fresh"] for x in results.get("builds", ())):
        print(
            "\nindex builds of this run (install + first query of every view, all MoDBs;"
            " bench/index_build.py measures builds per document)"
        )
        print(
            table(
                ["design doc", "dataset", "docs", "views", "seconds", "s per 10k docs"],
                [
                    [
                        x["ddoc"],
                        x["dataset"],
                        str(x["docs"]),
                        str(x["views"]),
                        f"{x['seconds']:.1f}",
                        f"{10_000 * x['seconds'] / x['docs']:.1f}" if x["docs"] else "-",
                    ]
                    for x in results["builds"]
                    if x["fresh"]
                ],
            )
        )


PRINTERS = (
    print_reports,
    print_warm,
    print_memory,
    print_kpis,
    print_acdc,
    print_before,
    print_growth,
    print_builds,
)


def print_results(results: dict[str, Any]) -> None:
    """Every section's table, in order (a section that did not run prints nothing)."""
    for printer in PRINTERS:
        printer(results)
    print(f"\nservice peak memory (VmHWM) at the end: {mib(results['peak_kib'])}")


def to_json(value: Any) -> Any:
    """Stats and Reports as plain JSON."""
    if isinstance(value, Stats):
        return value.as_json()
    if isinstance(value, Report):
        return {
            "name": value.name,
            "params": value.params,
            "response_bytes": value.response_bytes,
            "service": to_json(value.service),
            "cheapest": to_json(value.floor),
            "ours": to_json(value.ours),
            "naive": to_json(value.naive_stats),
            "naive_agrees": value.naive_agrees,
            "cheapest_agrees": value.floor_agrees,
            "notes": value.notes,
        }
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value

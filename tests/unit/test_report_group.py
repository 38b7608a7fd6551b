"""ReportGroup: one REPORTS message for a burst; a bad item spoils only itself."""

from __future__ import annotations

from contracts.reports import JobReport, ReportGroup, ReportKind


def report(job_id: str, kind: ReportKind) -> JobReport:
    return JobReport(job_id=job_id, network="akash", kind=kind, at="2026-11-29T10:00:00.000Z")


def test_a_group_carries_its_reports_in_order() -> None:
    sent = [report("job_a", ReportKind.SCHEDULED), report("job_b", ReportKind.COMPLETED)]
    sent[1].exit_code = 3
    reports, malformed = ReportGroup.model_validate_json(ReportGroup.encode(sent)).parse_items()
    assert (reports, malformed) == (sent, 0)


def test_a_malformed_item_is_counted_and_the_others_kept() -> None:
    good = report("job_a", ReportKind.STARTED).model_dump(by_alias=True)
    group = ReportGroup(reports=[{"jobId": "job_x", "kind": "exploded"}, good, {}])
    reports, malformed = group.parse_items()
    assert [r.job_id for r in reports] == ["job_a"]
    assert malformed == 2

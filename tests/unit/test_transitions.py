import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.status import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    JobEventType,
    JobStatus,
    can_transition,
    transition,
)


def test_happy_path_of_the_design() -> None:
    status = JobStatus.PENDING
    for event in (JobEventType.SCHEDULED, JobEventType.STARTED, JobEventType.COMPLETED):
        status = transition(status, event)
    assert status is JobStatus.COMPLETED


@pytest.mark.parametrize("start", [JobStatus.PENDING, JobStatus.SCHEDULED, JobStatus.RUNNING])
def test_cancel_goes_through_cancelling(start: JobStatus) -> None:
    cancelling = transition(start, JobEventType.CANCEL_REQUESTED)
    assert cancelling is JobStatus.CANCELLING
    assert transition(cancelling, JobEventType.CANCELLED) is JobStatus.CANCELLED


def test_expiry_only_from_running() -> None:
    assert transition(JobStatus.RUNNING, JobEventType.EXPIRED) is JobStatus.EXPIRED
    for status in set(JobStatus) - {JobStatus.RUNNING}:
        assert not can_transition(status, JobEventType.EXPIRED)


def test_exit_reports_do_not_end_a_cancelling_job() -> None:
    for event in (JobEventType.COMPLETED, JobEventType.FAILED, JobEventType.STARTED):
        with pytest.raises(IllegalTransition):
            transition(JobStatus.CANCELLING, event)


@given(st.sampled_from(sorted(TERMINAL_STATUSES)), st.sampled_from(list(JobEventType)))
def test_terminal_states_never_change(status: JobStatus, event: JobEventType) -> None:
    assert not can_transition(status, event)


@given(st.lists(st.sampled_from(list(JobEventType)), max_size=30))
def test_any_event_sequence_keeps_terminal_states_terminal(events: list[JobEventType]) -> None:
    status, ended_as = JobStatus.PENDING, None
    for event in events:
        if can_transition(status, event):
            status = transition(status, event)
        if ended_as is not None:
            assert status is ended_as
        if status.is_terminal:
            ended_as = status


def test_every_target_is_a_known_status_and_created_is_not_a_transition() -> None:
    assert all(isinstance(target, JobStatus) for target in TRANSITIONS.values())
    assert not any(event is JobEventType.CREATED for _, event in TRANSITIONS)

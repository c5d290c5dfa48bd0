"""lmw_common's shared kernel: preferences, citations and jobs with their one proto mapping, and the access
checks every service makes."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from lmw.common.v1 import common_pb2 as cpb
from lmw_common import preferences
from lmw_common.auth import Principal, own_or_service, require_owner, require_role
from lmw_common.citations import Citation, citation_from_pb, citation_pb
from lmw_common.errors import (
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    error_for,
)
from lmw_common.jobs import Job, JobItem, JobState, job_from_pb, job_pb
from lmw_common.preferences import DEFAULT_PREFERENCES, Preferences


def test_the_allowed_preference_values_are_read_from_the_proto_enums():
    assert preferences.DIMENSIONS == ("detail_level", "explanation_style", "language")
    assert preferences.ALLOWED["detail_level"] == ("brief", "moderate", "detailed")
    assert preferences.ALLOWED["explanation_style"] == ("examples", "conceptual", "practical", "visual")
    assert preferences.ALLOWED["language"] == ("simple", "balanced", "technical")
    assert Preferences("moderate", "conceptual", "balanced") == DEFAULT_PREFERENCES


def test_preferences_round_trip_through_the_proto():
    for dimension, values in preferences.ALLOWED.items():
        for value in values:
            mine = Preferences(**{dimension: value})
            assert preferences.preferences_from_pb(preferences.preferences_pb(mine)) == mine
    message = preferences.preferences_pb(Preferences("brief", "visual", "simple"))
    assert (message.detail_level, message.explanation_style, message.language) == (
        cpb.DETAIL_LEVEL_BRIEF,
        cpb.EXPLANATION_STYLE_VISUAL,
        cpb.LANGUAGE_LEVEL_SIMPLE,
    )


def test_a_reader_sees_the_default_where_a_value_is_unspecified_or_unknown_and_a_writer_sees_nothing():
    sent = cpb.Preferences(detail_level=cpb.DETAIL_LEVEL_BRIEF, language=99)
    assert preferences.preferences_from_pb(sent) == Preferences(detail_level="brief")
    written = preferences.values_from_pb(sent)
    assert written.pop("detail_level") == "brief" and set(written.values()) == {""}


def test_stored_preferences_ignore_other_keys_and_default_a_dimension_added_later():
    stored = {"_id": "a:c", "detail_level": "brief", "updated_at": 1}
    assert Preferences.from_dict(stored) == Preferences(detail_level="brief")
    assert Preferences("loud", "visual", "?").known() == Preferences(explanation_style="visual")


def test_an_update_sets_the_named_dimensions_or_without_a_mask_the_ones_given():
    values = {"detail_level": "brief", "explanation_style": "", "language": "simple"}
    assert preferences.changes(values, ["language"]) == {"language": "simple"}
    assert preferences.changes(values, []) == {"detail_level": "brief", "language": "simple"}
    for mask, reason in ((["explanation_style"], "INVALID_PREFERENCE"), (["tone"], "INVALID_UPDATE_MASK")):
        with pytest.raises(InvalidArgument) as refused:
            preferences.changes(values, mask)
        assert refused.value.reason == reason
    with pytest.raises(InvalidArgument) as refused:
        preferences.changes(dict.fromkeys(values, ""), [])
    assert refused.value.reason == "NOTHING_TO_UPDATE"


def test_a_citation_round_trips_through_the_proto_and_its_stored_form():
    cited = Citation("k1", "f1", "notes.pdf", 3, 0, "Loops > for", 10, 80, "A loop repeats.")
    assert citation_from_pb(citation_pb(cited)) == cited
    assert Citation.from_dict({**cited.as_dict(), "score": 0.9}) == cited


def test_a_jobs_progress_is_the_share_of_its_items_that_ended():
    job = Job(
        "j1",
        "ingest",
        "c1",
        JobState.RUNNING,
        items=[JobItem("f1", "a.md", JobState.SUCCEEDED), JobItem("f2", "b.md")],
    )
    assert (job.items_done, job.items_total, job.progress) == (1, 2, 0.5)
    assert Job("j2", "ingest", "c1", JobState.FAILED).progress == 1.0
    assert Job("j3", "ingest", "c1").progress == 0.0


def test_a_job_round_trips_through_the_proto():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = Job(
        "j1",
        "objectives",
        "c1",
        JobState.RUNNING,
        "drafting",
        [JobItem("m1", "Module 1", JobState.FAILED, "no material", 0), JobItem("m2", "Module 2")],
        created_at=moment,
        updated_at=moment,
    )
    message = job_pb(job)
    assert message.state == cpb.JOB_STATE_RUNNING and message.items_done == 1 and message.progress == 0.5
    assert job_from_pb(message) == job
    assert job_from_pb(cpb.Job(id="j9"), course_id="c7").course_id == "c7"


def test_a_role_check_names_the_callers_subject_or_refuses():
    assert require_role(Principal("ada", "learner"), "learner") == "ada"
    assert require_role(Principal("svc", "service"), "instructor", "service") == "svc"
    with pytest.raises(PermissionDenied) as refused:
        require_role(Principal("svc", "service"), "learner")
    assert refused.value.reason == "ROLE_NOT_ALLOWED"


def test_only_the_owner_reaches_what_they_own():
    require_owner(Principal("ian", "instructor"), "ian", "this course")
    with pytest.raises(PermissionDenied) as refused:
        require_owner(Principal("eve", "instructor"), "ian", "this course")
    assert refused.value.reason == "NOT_OWNER"


def test_a_learner_reaches_their_own_records_and_a_service_any_learners():
    ada = Principal("ada", "learner")
    assert own_or_service(ada, "") == own_or_service(ada, "ada") == "ada"
    assert own_or_service(Principal("svc", "service"), "bob") == "bob"
    for caller, learner_id, reason in (
        (ada, "bob", "NOT_OWNER"),
        (Principal("ian", "instructor"), "", "ROLE_NOT_ALLOWED"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            own_or_service(caller, learner_id)
        assert refused.value.reason == reason
    with pytest.raises(InvalidArgument):
        own_or_service(Principal("svc", "service"), "")  # a service names the learner


def test_a_status_code_or_its_stored_name_gives_its_domain_error():
    assert isinstance(error_for(grpc.StatusCode.NOT_FOUND, "gone", "COURSE_NOT_FOUND"), NotFound)
    failed = error_for("FAILED_PRECONDITION", "not yet", "OBJECTIVES_NOT_APPROVED")
    assert isinstance(failed, FailedPrecondition) and failed.reason == "OBJECTIVES_NOT_APPROVED"
    assert isinstance(error_for("NO_SUCH_CODE", "?"), Internal) and isinstance(
        error_for(grpc.StatusCode.UNKNOWN, "?"), Internal
    )

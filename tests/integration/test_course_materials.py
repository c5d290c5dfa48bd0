"""Issue 3's end-to-end proof: the sample course uploaded through instructor_svc over gRPC, the ingestion job
followed to SUCCEEDED through instructor_svc's WatchJob, then a question whose answer is on a known page
of the PDF retrieves that page's citation among the top results."""

from __future__ import annotations

import json

import pytest

from devkit import PASSWORD, SAMPLE_COURSE
from devkit.inprocess import drop_pg_urls, fresh_pg_urls, running_mesh
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.sme.v1 import sme_service_pb2 as spb

pytest.importorskip("orchestrator_svc.bootstrap")

FILES = ("02-probability.md", "03-inference.pdf")


@pytest.fixture
async def mesh(postgres, mongo_url, tmp_path, common_settings):
    urls = fresh_pg_urls(postgres)
    async with running_mesh(urls, mongo_url, tmp_path, common_settings) as running:
        yield running
    drop_pg_urls(postgres, urls)


async def upload(stub, course_id: str, name: str) -> ipb.UploadCourseFileResponse:
    data = (SAMPLE_COURSE / name).read_bytes()

    async def messages():
        yield ipb.UploadCourseFileRequest(
            metadata=ipb.UploadCourseFileMetadata(course_id=course_id, file_name=name)
        )
        for start in range(0, len(data), 100_000):
            yield ipb.UploadCourseFileRequest(data=data[start : start + 100_000])

    return await stub.UploadCourseFile(messages())


async def test_sample_course_is_uploaded_indexed_and_cited_by_page(mesh, service_token):
    anonymous = mesh.instructor_stub()
    signed = await anonymous.SignUp(
        ipb.SignUpRequest(email="t@example.org", password=PASSWORD, display_name="T")
    )
    stub = mesh.instructor_stub(signed.access_token.token)
    course = (await stub.CreateCourse(ipb.CreateCourseRequest(title="Statistics"))).course

    uploaded = {name: await upload(stub, course.id, name) for name in FILES}
    for response in uploaded.values():
        updates = [u.job async for u in stub.WatchJob(ipb.WatchJobRequest(job_id=response.job.id))]
        assert updates[-1].state == cpb.JOB_STATE_SUCCEEDED, updates[-1].message
        assert updates[-1].progress == 1.0
    status = await stub.GetIndexingStatus(ipb.GetIndexingStatusRequest(course_id=course.id))
    assert status.state == ipb.INDEX_STATE_READY and status.chunk_count > 0

    questions = [json.loads(line) for line in (SAMPLE_COURSE / "questions.jsonl").read_text().splitlines()]
    on_page_two = next(q for q in questions if q["file"] == "03-inference.pdf" and q["section"] == "page 2")
    hits = await mesh.sme_stub(service_token).Retrieve(
        spb.RetrieveRequest(course_id=course.id, query=on_page_two["question"], k=5)
    )
    pdf_id = uploaded["03-inference.pdf"].file.id
    cited = [(h.citation.file_id, h.citation.page) for h in hits.chunks]
    assert (pdf_id, 2) in cited, cited
    best = next(h for h in hits.chunks if (h.citation.file_id, h.citation.page) == (pdf_id, 2))
    assert on_page_two["answer_contains"].lower() in best.text.lower()
    assert best.citation.file_name == "03-inference.pdf"

"""A short run of the Python client generated from openapi.yaml, against a live server:
one image, one with our additions (languages, a role, auto mode), a small batch polled to its
end, a scan of a page served here (the server must allow 127.0.0.1), history and usage.

    python smoke.py BASE_URL API_KEY
"""
import base64
import http.server
import pathlib
import sys
import threading
import time

from alt_frame_api_client import AuthenticatedClient
from alt_frame_api_client.api.account import get_usage, list_history
from alt_frame_api_client.api.batches import get_batch
from alt_frame_api_client.api.generation import generate, generate_bulk, scan_page
from alt_frame_api_client.models import (
    BatchStatusResponse,
    BulkImage,
    BulkRequest,
    BulkResponse,
    GenerateRequest,
    GenerateRequestFieldsItem,
    GenerateRequestMode,
    GenerateRequestRole,
    GenerateResponse,
    HistoryResponse,
    ScanRequest,
    ScanResponse,
    UsageResponse,
)

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "tiny-1x1.png"
# A link whose image has no alt text, and a decorative one.
PAGE = b'<html><body><a href="/p"><img src="tiny.png"></a><img src="tiny.png" alt=""></body></html>'


class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body, kind = (PAGE, "text/html") if self.path == "/page.html" else (FIXTURE.read_bytes(), "image/png")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_page() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main(base_url: str, key: str) -> None:
    image = base64.b64encode(FIXTURE.read_bytes()).decode()
    # The key as a bearer token for one client, in x-api-key for the other.
    bearer = AuthenticatedClient(base_url=base_url, token=key)
    header = AuthenticatedClient(base_url=base_url, token=key, auth_header_name="x-api-key", prefix="")

    done = generate.sync(
        client=bearer,
        body=GenerateRequest(image_base64=image, fields=[GenerateRequestFieldsItem.ALT_TEXT]),
    )
    assert isinstance(done, GenerateResponse), done
    assert done.status == "completed" and done.results.alt_text, done
    print(f"generate: {done.id} '{done.results.alt_text}' ({done.meta.credits_used} credit)")

    # The builtin model writes English only: French is listed as failed, and not charged.
    fitted = generate.sync(
        client=bearer,
        body=GenerateRequest(
            image_base64=image,
            fields=[GenerateRequestFieldsItem.ALT_TEXT],
            languages=["en", "fr"],
            role=GenerateRequestRole.CHART,
            mode=GenerateRequestMode.AUTO,
        ),
    )
    assert isinstance(fitted, GenerateResponse), fitted
    assert fitted.failed_languages == ["fr"], fitted
    assert fitted.results.long_description and fitted.results.decorative is False, fitted
    assert fitted.meta.credits_used == 1, fitted
    print(f"generate with our additions: failed {fitted.failed_languages}, decorative {fitted.results.decorative}")

    accepted = generate_bulk.sync(
        client=header,
        body=BulkRequest(images=[BulkImage(image_base64=image), BulkImage(image_base64=image)]),
    )
    assert isinstance(accepted, BulkResponse), accepted
    deadline = time.monotonic() + 60
    while True:
        batch = get_batch.sync(client=header, batch_id=accepted.batch_id)
        assert isinstance(batch, BatchStatusResponse), batch
        if batch.status != "processing":
            break
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.1)
    assert batch.status == "completed" and batch.completed == 2, batch
    print(f"bulk: {batch.batch_id} {batch.status}, {batch.completed} of {batch.total}")

    site = serve_page()
    report = scan_page.sync(client=header, body=ScanRequest(page_url=f"{site}/page.html"))
    assert isinstance(report, ScanResponse), report
    assert report.summary.found == 2 and report.summary.need_alt_text == 1, report
    linked, decorative = report.images
    assert linked.alt is None and linked.role == "link" and linked.needs_alt_text, linked
    assert linked.link_url == f"{site}/p" and linked.findings[0].code == "missing", linked
    assert decorative.alt == "" and decorative.decorative == "empty_alt", decorative
    print(f"scan: {report.summary.found} images, {report.summary.need_alt_text} need alt text")

    history = list_history.sync(client=header, limit=10)
    assert isinstance(history, HistoryResponse), history
    assert history.pagination.total >= 3, history
    print(f"history: {history.pagination.total} jobs, newest {history.jobs[0].id}")

    usage = get_usage.sync(client=bearer)
    assert isinstance(usage, UsageResponse), usage
    assert usage.credits_.used_this_period >= 3, usage
    print(f"usage: {usage.plan}, {usage.credits_.remaining} credits left")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

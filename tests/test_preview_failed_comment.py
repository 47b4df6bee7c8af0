"""After a failed preview, .github/scripts/preview_failed_comment.py replaces the stack's PR comment
(found by the heading and marker pulumi/actions v7.0.0 uses, src/libs/pr.ts:75-77, :112-117) with a
failure notice, against a stand-in GitHub REST API."""
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / ".github" / "scripts" / "preview_failed_comment.py"
HEADING = "#### :tropical_drink: `preview` on jenkins-k8s/acme/staging"
MARKER = "<summary>Pulumi report</summary>"


@pytest.fixture
def github():
    state = {"pages": [], "calls": []}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, payload):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            state["calls"].append(("GET", self.path, None, self.headers["Authorization"]))
            page = int(self.path.rsplit("page=", 1)[1])
            self._reply(state["pages"][page - 1] if page <= len(state["pages"]) else [])

        def _write(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["calls"].append((self.command, self.path, body["body"], self.headers["Authorization"]))
            self._reply({"id": 1})

        do_PATCH = do_POST = _write

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the loop's next poll; the default interval is 0.5 s.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()


def run(github, tmp_path):
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "org/repo", "GITHUB_API_URL": github["url"],
           "PR_NUMBER": "7", "STACK": "staging", "PULUMI_ORG": "acme", "HEAD_SHA": "abc123",
           "RUN_URL": "https://github.com/org/repo/actions/runs/9", "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return [c for c in github["calls"] if c[0] != "GET"], summary.read_text()


def test_the_stacks_comment_on_a_later_page_is_edited_into_a_failure_notice(github, tmp_path):
    github["pages"] = [
        [{"id": n, "body": f"comment {n}"} for n in range(100)],
        [{"id": 500, "body": HEADING.replace("staging", "prod") + "\n" + MARKER},
         {"id": 501, "body": HEADING + "\n\n<details>\n" + MARKER + "\n+ 3 to create\n</details>"}],
    ]
    writes, summary = run(github, tmp_path)
    assert len(writes) == 1
    method, path, body, auth = writes[0]
    assert (method, path, auth) == ("PATCH", "/repos/org/repo/issues/comments/501", "Bearer t0ken")
    assert body.startswith(HEADING + "\n") and MARKER in body  # pulumi/actions finds it again next time
    assert "failed for abc123" in body and "https://github.com/org/repo/actions/runs/9" in body
    assert "+ 3 to create" not in body
    assert "failed for abc123" in summary


def test_with_no_comment_yet_one_is_added(github, tmp_path):
    github["pages"] = [[{"id": 1, "body": "unrelated"}]]
    writes, _ = run(github, tmp_path)
    assert [(m, p) for m, p, _, _ in writes] == [("POST", "/repos/org/repo/issues/7/comments")]
    assert writes[0][2].startswith(HEADING + "\n")

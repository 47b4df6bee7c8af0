"""CI helper (preview.yml): after a failed `pulumi preview`, replace the stack's pull-request comment
with a failure notice, so the diff of an older push never stands as the current one.

pulumi/actions v7.0.0 writes its comment only after the command succeeds (src/main.ts:37 runs the
action without awaiting it; :120 runs the command, :155-165 comment only after it returned), heads it
"#### :tropical_drink: `<command>` on <project>/<stack-name>" and finds it again by that heading plus
"<summary>Pulumi report</summary>" (src/libs/pr.ts:75-77, :112-117). The notice keeps both, so the
next successful preview edits it back. Comments are read page by page (the action reads only the
first page).

  in: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, PR_NUMBER, STACK, PULUMI_ORG (optional),
      HEAD_SHA, RUN_URL, GITHUB_STEP_SUMMARY (optional)
"""
from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

SUMMARY = "<summary>Pulumi report</summary>"


def project_name() -> str:
    for line in (Path(__file__).resolve().parents[2] / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("error: Pulumi.yaml has no name")


def api(method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        os.environ.get("GITHUB_API_URL", "https://api.github.com") + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
                 "Accept": "application/vnd.github+json", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def main() -> int:
    stack = os.environ["STACK"]
    org = os.environ.get("PULUMI_ORG", "")
    stack_name = f"{org}/{stack}" if org else stack
    heading = f"#### :tropical_drink: `preview` on {project_name()}/{stack_name}"
    sha, run_url = os.environ["HEAD_SHA"], os.environ["RUN_URL"]
    notice = (f":x: **`pulumi preview` of `{stack_name}` failed for {sha}** (a mandatory policy violation "
              f"or an error): see [the run]({run_url}). The preview of an older push that was here has been "
              "removed; the next successful preview replaces this comment.")
    body = f"{heading}\n\n{notice}\n\n<details>\n{SUMMARY}\n\nNo preview for {sha}.\n</details>\n"

    issue = f"/repos/{os.environ['GITHUB_REPOSITORY']}/issues/{os.environ['PR_NUMBER']}"
    found = None
    page = 1
    while found is None:
        comments = api("GET", f"{issue}/comments?per_page=100&page={page}")
        if not comments:
            break
        found = next((c for c in comments
                      if (c.get("body") or "").startswith(heading) and SUMMARY in c["body"]), None)
        page += 1
    if found is not None:
        api("PATCH", f"/repos/{os.environ['GITHUB_REPOSITORY']}/issues/comments/{found['id']}", {"body": body})
    else:
        api("POST", f"{issue}/comments", {"body": body})

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as out:
            out.write(f"{heading}\n\n{notice}\n")
    print(f"::error title=pulumi preview of {stack_name} failed::the pull-request comment now says so")
    return 0


if __name__ == "__main__":
    sys.exit(main())

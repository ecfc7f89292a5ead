"""`tradewind deploy`: install or upgrade Tradewind on Kubernetes with its Helm chart; `deploy delete`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradewind.cli.arguments import Subparsers

#: Where --render-only writes, relative to the current directory.
DEFAULT_RENDER_DIR = Path("build") / "deploy"


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "deploy",
        help="Deploy Tradewind to Kubernetes with its Helm chart",
        description=(
            "Render the Tradewind Helm chart for the given image and DAG source, apply it with "
            "`helm upgrade --install`, wait for the pods, check /health and print how to log in. "
            "Values apply in this order: the chart's defaults, --values files, these flags, --set."
        ),
    )
    _add_target_flags(parser)
    parser.add_argument(
        "--image", help="image repository, without the tag (e.g. registry.example.com/tradewind)"
    )
    parser.add_argument("--tag", help="image tag (default: the chart's appVersion, this Tradewind's version)")
    parser.add_argument(
        "--dags", choices=["persistent", "git"],
        help="DAG files from a volume (persistent, the chart's default) or cloned from git by git-sync (git)",
    )  # fmt: skip
    parser.add_argument("--git-repo", help="repository holding the DAG files (--dags git)")
    parser.add_argument("--git-branch", help="branch, tag or commit to check out (default: main)")
    parser.add_argument("--git-subpath", help="folder of the DAG files inside the repository")
    parser.add_argument(
        "-f", "--values", action="append", type=Path, default=[], metavar="FILE",
        help="a values file for the chart (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--set", dest="set_values", action="append", default=[], metavar="KEY=VALUE",
        help="one chart value, as `helm --set` (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--render-only", action="store_true",
        help="only render the manifests into --output-dir (default build/deploy/RELEASE/); touch no cluster",
    )  # fmt: skip
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_RENDER_DIR, help="where --render-only writes"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, metavar="SECONDS",
        help="how long to wait for the release to become ready (default 600)",
    )  # fmt: skip
    parser.add_argument("--chart", type=Path, help="a chart folder other than the one shipped with Tradewind")
    parser.set_defaults(handler=_deploy)

    actions = parser.add_subparsers(dest="deploy_action", metavar="ACTION")
    delete = actions.add_parser("delete", help="uninstall a release (and with --purge its volumes)")
    _add_target_flags(delete)
    delete.add_argument(
        "--purge", action="store_true",
        help="also delete the release's volumes (database, logs, DAGs), kept Secrets and left-over pods",
    )  # fmt: skip
    delete.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="uninstall timeout")
    delete.set_defaults(handler=_delete)


def _add_target_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", default="tradewind", help="Helm release name (default: tradewind)")
    parser.add_argument("-n", "--namespace", default="tradewind", help="namespace (default: tradewind)")
    parser.add_argument("--kube-context", help="kubeconfig context to use (default: the current one)")


def _deploy(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tradewind.deploy.deployment import Deployer
    from tradewind.deploy.options import DeployOptions
    from tradewind.sdk.errors import ConfigError

    if args.image is None and not args.render_only:
        raise ConfigError(
            "--image is required: the repository the cluster pulls the Tradewind image from", key="image"
        )
    options = DeployOptions(
        release=args.release,
        namespace=args.namespace,
        image=args.image,
        tag=args.tag,
        dags=args.dags,
        git_repo=args.git_repo,
        git_branch=args.git_branch,
        git_subpath=args.git_subpath,
        values_files=tuple(args.values),
        set_values=tuple(args.set_values),
        timeout=args.timeout,
        kube_context=args.kube_context,
        chart=args.chart,
    )
    console = Console(stderr=True)
    deployer = Deployer(options, console=console)
    if args.render_only:
        result = deployer.render(args.output_dir)
        print(f"rendered {result.manifests} (values from the flags: {result.flag_values})")
        return 0
    outcome = deployer.deploy()
    out = Console(file=sys.stdout, highlight=False)
    out.print(f"[green]Tradewind is up[/]: {outcome.health.describe()}")
    if outcome.url:
        out.print(f"Web UI and API: {outcome.url}")
    else:
        out.print(f"Web UI and API: run `{outcome.port_forward_command()}`, then open http://127.0.0.1:8080")
    if outcome.facts.admin_user:
        out.print(
            f"Log in as [bold]{outcome.facts.admin_user}[/]; the password: `{outcome.password_command()}`"
        )
    out.print(f"Watch task pods come and go: `kubectl --namespace {options.namespace} get pods --watch`")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tradewind.deploy.deployment import delete_release

    for line in delete_release(
        release=args.release,
        namespace=args.namespace,
        purge=args.purge,
        timeout=args.timeout,
        kube_context=args.kube_context,
        console=Console(stderr=True),
    ):
        print(line)
    return 0

"""Saved views from the command line: list them, share one in the ledger, show one.

``views list`` lists the YAML views of ``parameters/views/`` (or ``--folder``) and the
views shared in the ledger; ``views save`` shares a view in the ledger (from a YAML file
or a saved view, or made from filter fields written as a URL query); ``views show`` prints
a view's YAML, its link for the panel and, when shared, every version with who and when.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import EXIT_OK, UsageError


def cmd_views(args: argparse.Namespace) -> int:
    from vosbench.analysis import saved_views, shared_views

    if args.action == "list" and args.folder and Path(args.folder).exists() and not Path(args.folder).is_dir():
        raise UsageError(f"--folder {args.folder} is a file; give the folder holding the views' YAML files "
                         "(default parameters/views/)")
    with options.open_ledger(args) as ledger, ledger.engine.connect() as connection:
        if args.action == "list":
            unreadable: dict[str, str] = {}
            shared = shared_views.latest(connection, unreadable)
            files = saved_views.list_views(args.folder)
            if args.folder and not Path(args.folder).is_dir():  # a mistyped folder is not "no views saved there"
                print(f"warning: views folder {args.folder} does not exist: no view files listed from it", file=sys.stderr)
            for message in unreadable.values():  # listed without it: the others stay usable
                print(f"warning: {message}", file=sys.stderr)
            for name in files:
                print(f"{name}  (file in {args.folder or saved_views.DEFAULT_FOLDER})")
            for name, version in shared.items():
                shadowed = (f"; the file of this name is what {name} opens, this view is "
                            f"{shared_views.LEDGER_PREFIX}{name}") if name in files else ""
                print(f"{name}  (shared in the ledger by {version.saved_by}, {version.saved_at:%Y-%m-%d %H:%M} UTC"
                      f"{shadowed})")
            if not files and not shared:
                print("no saved views yet: save one from the explorer or with `vosbench views save NAME --query ...`")
            return EXIT_OK
        if args.action == "show":
            view = shared_views.find(args.view, connection, args.folder)
            print(_yaml(view), end="")
            print(f"\npanel link: ?{saved_views.query_string(view)}")
            _print_source(args, view, connection)
            return EXIT_OK
    view = _view_to_share(args)
    with options.open_ledger(args) as ledger:
        version = shared_views.share(ledger.engine, view, saved_by=args.by, folder=args.folder)
    print(f"view {view.name} shared in the ledger (version {version.number}, by {version.saved_by})")
    return EXIT_OK


def _print_source(args: argparse.Namespace, view, connection) -> None:
    """Where the view shown comes from: a file, or the ledger with every version and who saved it.

    The versions are only ever listed under the ledger's own contents: a file of the same
    name is said to be a file, and the shared view of its name is pointed to, not merged in.
    """
    from vosbench.analysis import saved_views, shared_views

    prefix = shared_views.LEDGER_PREFIX
    if shared_views.is_shared(args.view, connection, args.folder):
        print("shared in the ledger:")
        for version in shared_views.history(connection, view.name):
            print(f"version {version.number}: saved by {version.saved_by} at {version.saved_at:%Y-%m-%d %H:%M:%S} UTC")
        return
    folder = args.folder or saved_views.DEFAULT_FOLDER
    print(f"file: {args.view if str(args.view).endswith(('.yaml', '.yml')) else Path(folder) / f'{view.name}.yaml'}")
    shared = shared_views.latest(connection).get(view.name)
    if shared is not None:
        print(f"a view named {view.name} is also shared in the ledger (version {shared.number}, saved by "
              f"{shared.saved_by}); the name opens the file, `vosbench views show {prefix}{view.name}` shows the shared one")


def _view_to_share(args: argparse.Namespace):
    from vosbench.analysis import saved_views
    from vosbench.analysis.saved_views import SavedView

    if args.query:
        made = saved_views.from_query_string(args.query)
        if made is None:
            raise UsageError("--query is empty: give filter fields, e.g. --query 'kinds=deposit&min_amount=1000'")
        return SavedView(args.view, made.filter, made.layout, args.description or made.description)
    found = saved_views.load_view(args.view, args.folder)
    name = Path(args.view).stem if str(args.view).endswith((".yaml", ".yml")) else found.name
    return SavedView(name, found.filter, found.layout, args.description or found.description)


def _yaml(view) -> str:
    """The view's YAML as shown on a terminal: a description's bidi or control characters are escapes."""
    import yaml

    from vosbench.outputs.visible import visible

    return visible(yaml.safe_dump(view.to_document(), sort_keys=False, allow_unicode=True))


def register(add) -> None:
    sub = add("views", cmd_views, "saved views: list them, share one in the ledger, show one")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[options.shared_options()],
                                 help="the views of the views folder and those shared in the ledger")
    saving = actions.add_parser("save", parents=[options.shared_options()],
                                help="share a view in the ledger (a new version when the name is taken)")
    saving.add_argument("view", metavar="NAME|FILE", help="the view's name (a views-folder view unless --query "
                                                          "makes it), or a YAML file")
    saving.add_argument("--query", metavar="FIELDS", help="the filter and layout as a URL query, e.g. "
                                                          "'start=2026-10-01&end=2026-10-31&kinds=deposit'")
    saving.add_argument("--description", default="", help="what the view is for")
    saving.add_argument("--by", help="who shares it: a registered operator (on a server: your login)")
    showing = actions.add_parser("show", parents=[options.shared_options()],
                                 help="a view's YAML, its panel link and, when shared, its versions")
    showing.add_argument("view", metavar="NAME|FILE")
    for each in (listing, saving, showing):
        each.add_argument("--folder", type=Path, help="views folder (default: parameters/views/)")

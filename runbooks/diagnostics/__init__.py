"""Diagnostics (issue 16): trace bundles read, checked and explained, and the one-click collectors.

    inspection.py   the console's inspection: the pure inspector (`companyos_cli.bundle`, shared with
                    the offline CLI) plus what only the console knows, the error-code catalogue and its
                    runbooks
    storage.py      `bundle_storage(tenant)`: the one place a bundle's bytes are kept

The pure inspector lives in `companyos_cli.bundle` because the CLI (`companyos support inspect`) must
run it offline and may import nothing of the console; the console may import the CLI's package (the
layers contract does not list `companyos_cli`, and the CLI contract forbids only the other direction),
so one implementation serves the page, the Celery task, `manage.py support_inspect` and the CLI.
"""

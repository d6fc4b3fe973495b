"""Start the app with its pages imported and the area loaded before the first visitor arrives.

``python -m assetmap.ui.launch run assetmap/ui/webapp/app.py [streamlit options]`` does what
``streamlit run`` does, after importing the pages and loading (and measuring
access in) the configured area in the same process. Streamlit's resource cache
is per process, so the first visitor finds the area ready instead of waiting
for imports, the street network and the first access run.
"""

from __future__ import annotations

import gc
import inspect
import sys
from pathlib import Path

from assetmap import settings


def housekeeping(area_path: str | None = None) -> str:
    """Erase the personal details kept past the retention period from the register the app opens.

    As ``assetmap housekeeping`` does, at each start of the server. Whatever is wrong
    with the register, the server still starts: the problem is reported here (and
    shown again by the pages that use the register), never raised.

    Parameters
    ----------
    area_path : str, optional
        Area folder (default: ``settings.default_area_path``); the shared register
        where ``settings.register_url`` is set.

    Returns
    -------
    str
        What was done, as printed.
    """
    from assetmap.area.register import has_register, open_area_register

    folder = Path(area_path or settings.default_area_path)
    if not has_register(folder):
        return "housekeeping: no register yet; nothing to erase."  # none is created just for this
    try:
        with open_area_register(folder) as store:
            erased = store.erase_expired()
    except Exception as exc:  # any failure here must not stop the server from starting
        message = f"housekeeping could not run, the app starts without it: {exc}"
    else:
        message = (
            f"housekeeping: erased the personal details of {len(erased)} rejected or withdrawn records kept longer "
            f"than {settings.personal_data_retention_days} days."
        )
    print(f"assetmap {message}", file=sys.stderr)
    return message


def warm(area_path: str | None = None) -> None:
    """Erase expired personal details, import the libraries the pages use and load the area the app opens on.

    The area is loaded with its default gap analysis; :func:`housekeeping` runs first.

    Failures are left for the page to report to its reader: an area that cannot
    load is shown as an error there, not as a server that will not start.

    Parameters
    ----------
    area_path : str, optional
        Area folder (default: ``settings.default_area_path``).
    """
    # The heavy libraries the pages use, but not the pages themselves: those declare Streamlit
    # components, which must happen once the server is running.
    import altair  # noqa: F401
    import matplotlib.backends.backend_pdf  # noqa: F401

    import assetmap.render.printmap
    import assetmap.render.webmap  # noqa: F401
    from assetmap._errors import AssetMapError
    from assetmap.ui import common

    housekeeping(area_path)
    try:
        area = common.get_area(area_path or settings.default_area_path)
        from assetmap.render import webmap
        from assetmap.render.views import map_layer, shown_assets

        # Only what the first visitor's Map page draws: the walking catchment is off until asked for,
        # and on a county its shape alone takes minutes.
        layer = map_layer(area, common.DEFAULT_GROUP, threshold=settings.walk_threshold_m)
        # The Map page's first drawing: its classifier (mapclassify brings in scipy.stats, a second
        # on its own) and its layer builders are loaded here rather than on the first visit.
        layers = webmap.map_layers(layer, shown_assets(area), value="avg_score", fictional=area.fictional)
        webmap.base_map(attribution=area.attribution, fictional=area.fictional, bounds=layers.bounds).render()
    except AssetMapError:
        pass
    # Streamlit finds the module of each component declared on the first visit with
    # inspect.getmodule, which maps every loaded module to its file once and then keeps
    # the map: made here for the thousands of modules loaded above, not on the first visit.
    inspect.getmodule(inspect.currentframe())
    # Streamlit collects garbage after every script run. Frozen, the libraries and the area
    # loaded here (long-lived, and most of the heap) are not walked again each time: a full
    # collection after a run of the Map page drops from about 0.15 s to almost nothing,
    # time in which the server could not answer the browser.
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """Warm up, then hand over to Streamlit's own command line with ``argv``."""
    import warnings

    with warnings.catch_warnings():
        # Outside a running app Streamlit warns that there is no script context; nothing is wrong.
        warnings.simplefilter("ignore")
        warm()
    from streamlit.web import cli

    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())

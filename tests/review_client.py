"""The review plugin's pages as a browser sees them, through Datasette's own client."""

import contextlib
import os

from datasette.app import Datasette
from datasette.version import __version__ as datasette_version

from shashin.store import Store

#: Datasette 1.0 (its alphas): settings in datasette.yaml, CSRF by the headers browsers send.
DATASETTE_1 = datasette_version.startswith("1.")
#: What a browser sends with a form posted from another site's page (it cannot read the CSRF token).
CROSS_SITE = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
SAME_ORIGIN = {"origin": "http://localhost", "sec-fetch-site": "same-origin"}


async def datasette(db, config=None, key="shashin", **settings):
    """A Datasette over db with the plugin's settings (and any others, such as allow blocks) where this
    version reads them: metadata on 0.65, datasette.yaml on 1.0."""
    settings = dict(settings, plugins={key: config}) if config else settings
    ds = Datasette([str(db)], **{"config" if DATASETTE_1 else "metadata": settings or None})
    await ds.invoke_startup()
    return ds


class Visitor:
    """A browser session: cookies for an actor (or none), and with each form what a browser sends:
    the CSRF token the pages hand out (Datasette 0.65) and the headers of a same-origin post (1.0)."""

    def __init__(self, ds, actor=None):
        self.ds = ds
        self.cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else {}
        self.visited = False

    def _headers(self, extra):
        cookie = "; ".join("{}={}".format(k, v) for k, v in self.cookies.items())
        return dict({"cookie": cookie} if cookie else {}, **(extra or {}))

    async def get(self, path, headers=None, follow_redirects=False):
        self.visited = True
        response = await self.ds.client.get(path, headers=self._headers(headers), follow_redirects=follow_redirects)
        if "ds_csrftoken" in response.cookies:
            self.cookies["ds_csrftoken"] = response.cookies["ds_csrftoken"]
        return response

    async def post(self, path, data, headers=None, cross_site=False):
        """A form from one of the plugin's pages, or from another site's (no token, CROSS_SITE headers)."""
        if cross_site:
            form, browser = data, CROSS_SITE
        else:
            if not self.visited:
                await self.get("/-/shashin")
            form, browser = dict(data, csrftoken=self.cookies.get("ds_csrftoken", "")), SAME_ORIGIN
        headers = {"accept": "application/json", **browser, **(headers or {})}
        return await self.ds.client.post(path, data=form, headers=self._headers(headers))


def key(path):
    return os.fsencode(path).hex()


def md5_of_recorded(db, path):
    """The md5 the database holds for a path (which the file on disk may no longer have)."""
    with contextlib.closing(Store(db)) as store:
        return store.images_by_path([path])[path]["md5"]

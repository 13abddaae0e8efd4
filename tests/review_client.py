"""The review plugin's pages as a browser sees them, through Datasette's own client."""

import contextlib
import os

from datasette.app import Datasette

from shashin.store import Store


async def datasette(db, config=None):
    ds = Datasette([str(db)], metadata={"plugins": {"shashin-review": config}} if config else None)
    await ds.invoke_startup()
    return ds


class Visitor:
    """A browser session: cookies for an actor (or none) and the CSRF token the pages hand out."""

    def __init__(self, ds, actor=None):
        self.ds = ds
        self.cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else {}

    def _headers(self, extra):
        cookie = "; ".join("{}={}".format(k, v) for k, v in self.cookies.items())
        return dict({"cookie": cookie} if cookie else {}, **(extra or {}))

    async def get(self, path, headers=None, follow_redirects=False):
        response = await self.ds.client.get(path, headers=self._headers(headers), follow_redirects=follow_redirects)
        if "ds_csrftoken" in response.cookies:
            self.cookies["ds_csrftoken"] = response.cookies["ds_csrftoken"]
        return response

    async def post(self, path, data, token=True, headers=None):
        if token and "ds_csrftoken" not in self.cookies:
            await self.get("/-/shashin")
        form = dict(data, csrftoken=self.cookies["ds_csrftoken"]) if token else data
        headers = dict({"accept": "application/json"}, **(headers or {}))
        return await self.ds.client.post(path, data=form, headers=self._headers(headers))


def key(path):
    return os.fsencode(path).hex()


def md5_of_recorded(db, path):
    """The md5 the database holds for a path (which the file on disk may no longer have)."""
    with contextlib.closing(Store(db)) as store:
        return store.images_by_path([path])[path]["md5"]
